"""Paired comparisons over seeds: the mean difference with a Student-t interval, and the
three-way verdict the PosGen claims use (holds / does not hold / inconclusive).

The interval is papershelf's (``papershelf.stats``); what is PosGen's own is ``decide``,
the verdict of several directional comparisons at once.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from papershelf.stats import paired_difference

__all__ = ["decide", "paired_interval"]


def paired_interval(ours: Sequence[float], baseline: Sequence[float]) -> dict[str, float]:
    """Mean of the paired differences ``ours[s] - baseline[s]`` and its 95 % t interval
    (``papershelf.stats.paired_difference``), as ``{"n", "mean", "sd", "low", "high"}``.

    Pairs share everything but the compared method (same seed, data and initialisation), so
    the seed-to-seed spread cancels.
    """
    diff = paired_difference(ours, baseline)
    sd = statistics.stdev(a - b for a, b in zip(ours, baseline, strict=True))
    return {"n": diff.n, "mean": diff.mean, "sd": sd, "low": diff.low, "high": diff.high}


def decide(comparisons: Sequence[dict]) -> tuple[bool | None, str]:
    """The verdict of a conjunction of directional paired comparisons.

    Each comparison is ``{"name", "expected": +1 | -1, "low", "high"}`` (an interval of
    ours - baseline; ``expected`` +1 means the claim says ours > baseline). A part holds when
    its whole interval lies on the expected side of 0 and fails when it lies on the other.
    Returns ``(False, why)`` if any part fails, ``(True, "")`` if every part holds, else
    ``(None, why)``: the interval contains 0, so these seeds cannot separate the methods.
    """
    failed, open_ = [], []
    for c in comparisons:
        low, high = sorted((c["expected"] * c["low"], c["expected"] * c["high"]))
        text = f"{c['name']}: 95 % paired interval [{c['low']:+.2f}, {c['high']:+.2f}] points"
        if high < 0:
            failed.append(text)
        elif not low > 0:
            open_.append(text)
    if failed:
        return False, "; ".join(failed) + " (the opposite direction)"
    if open_:
        return None, "; ".join(open_) + " contains 0: the seeds cannot separate the methods"
    return True, ""
