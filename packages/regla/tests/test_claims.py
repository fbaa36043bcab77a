"""Each claim's rule on tiny settings (the runner and budgets are papershelf's)."""

import pytest
from papershelf.registry import RunContext
from regla.claims import bounded_outputs, decode_time, gate_saturation, recall_proxy
from regla.paper import PAPER


def test_paper_record():
    assert PAPER.id == "regla" and len(PAPER.claims) == 4


def test_bounded_outputs_quick(tmp_path):
    r = bounded_outputs.run(RunContext(quick=True, seed=0, out=tmp_path))
    assert r.holds is True and r.details["growth"]["relu+none"] > 2


def test_gate_saturation_tiny(tmp_path, monkeypatch):
    monkeypatch.setattr(
        gate_saturation, "QUICK", dict(gate_saturation.QUICK, steps=2, seq_len=16, seeds=3)
    )
    r = gate_saturation.run(RunContext(quick=True, seed=0, out=tmp_path))
    assert len(r.details["refine_per_seed"]) == 3
    assert r.holds is None or isinstance(r.holds, bool)


def test_recall_proxy_is_inconclusive_when_nothing_learned(tmp_path, monkeypatch):
    monkeypatch.setattr(recall_proxy, "QUICK", dict(recall_proxy.QUICK, steps=1, batch=2))
    r = recall_proxy.run(RunContext(quick=True, seed=0, out=tmp_path))
    assert r.holds is None and set(r.details["accuracy"]) == {"regla", "gla", "la_relu", "hybrid"}


@pytest.mark.slow
def test_decode_time_quick(tmp_path):
    r = decode_time.run(RunContext(quick=True, seed=0, out=tmp_path))
    assert len(r.details["regla_ms"]) == len(decode_time.QUICK_L)


def test_decode_time_windows():
    assert decode_time.per_length([1.0] * 8 + [3.0] * 8, (8, 16)) == [1.0, 3.0]
