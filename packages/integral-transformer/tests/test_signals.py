"""The §3.3 simulation: S = 1 makes both averages equal; known values from the spec."""

import pytest
from integral_transformer.signals import signal_average_stats


def test_s1_equal_and_logit_better():
    rows = signal_average_stats(sigmas=(1.0,), signals=(1, 8), draws=2000, dim=64, seed=0)
    one, eight = rows
    assert one["kl_logit"] == pytest.approx(one["kl_prob"], rel=1e-5)
    assert eight["kl_logit"] < eight["kl_prob"]
    assert eight["kl_logit"] == pytest.approx(0.060, abs=0.01)  # spec prototype: 0.060 vs 0.078
