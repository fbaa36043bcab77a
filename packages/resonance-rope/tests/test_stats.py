"""The paired comparison: the interval against its formula written out, and the three-way
decision (the t quantiles are papershelf's, tested there)."""

from __future__ import annotations

import math

import pytest
from resonance_rope.stats import decide, paired_interval


def test_paired_interval_formula():
    ours, base = [70.0, 75.0, 80.0], [68.0, 70.0, 79.0]
    d = [2.0, 5.0, 1.0]
    mean = sum(d) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / 2)
    ci = paired_interval(ours, base)
    assert ci["mean"] == pytest.approx(mean) and ci["sd"] == pytest.approx(sd)
    assert ci["high"] - ci["mean"] == pytest.approx(4.3027 * sd / math.sqrt(3))
    assert ci["low"] < 0 < ci["high"]  # three seeds with this spread cannot separate them
    with pytest.raises(ValueError, match="paired"):
        paired_interval([1.0], [2.0])


def test_decide_three_ways():
    up = {"name": "a", "expected": +1, "low": 0.5, "high": 3.0}
    around = {"name": "b", "expected": +1, "low": -1.0, "high": 3.0}
    down = {"name": "c", "expected": +1, "low": -4.0, "high": -0.1}
    assert decide([up]) == (True, "")
    holds, why = decide([up, around])
    assert holds is None and "b:" in why and "contains 0" in why
    holds, why = decide([up, around, down])
    assert holds is False and "c:" in why
    # expected -1: the claim says ours < baseline
    assert decide([{"name": "d", "expected": -1, "low": -4.0, "high": -0.1}])[0] is True
    assert decide([{"name": "d", "expected": -1, "low": 0.2, "high": 1.0}])[0] is False
