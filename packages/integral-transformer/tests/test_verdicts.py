"""The shared comparison rule."""

from types import SimpleNamespace

from integral_transformer.verdicts import compare


def _m(*accs):
    return [SimpleNamespace(metrics={"accuracy": a}) for a in accs]


def test_compare_band():
    assert compare(_m(0.9), _m(0.8))["verdict"] == "beats"
    assert compare(_m(0.8), _m(0.9))["verdict"] == "loses"
    assert compare(_m(0.81), _m(0.8))["verdict"] == "close"
    noisy = compare(_m(0.9, 0.5, 0.9), _m(0.5, 0.9, 0.5))
    assert noisy["band"] > 0.02 and noisy["verdict"] == "close"
