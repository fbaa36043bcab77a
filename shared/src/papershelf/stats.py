"""Deciding close comparisons from several seeds: the paired difference and its interval.

A claim that compares two close numbers runs both arms on the same seeds and decides on the
paired differences ``ours - baseline``: the 95 % Student-t interval of their mean above 0
(``"yes"``), below 0 (``"no"``), or containing 0 (inconclusive: the gap is inside the
seed-to-seed spread). No scipy needed: the t quantiles for 95 % are tabulated.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# two-sided 95 % Student-t quantiles t_{0.975, df}, df = 1..30; the normal's 1.96 beyond
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(df: int) -> float:
    """``t_{0.975}`` with ``df`` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError(f"df: must be >= 1, got {df}")
    return _T975[df - 1] if df <= len(_T975) else 1.96


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``ours - baseline`` over paired seeds with its 95 % t-interval."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def holds(self) -> bool | None:
        """``True`` if the interval is above 0, ``False`` if below, ``None`` if it holds 0."""
        if self.low > 0:
            return True
        if self.high < 0:
            return False
        return None

    def describe(self, unit: str = "") -> str:
        return (
            f"mean paired difference {self.mean:+.4g}{unit}, 95 % CI "
            f"[{self.low:+.4g}, {self.high:+.4g}]{unit} over {self.n} seeds"
        )


def paired_difference(ours: Sequence[float], baseline: Sequence[float]) -> PairedDifference:
    """The paired differences ``ours[i] - baseline[i]`` (same seed i) and their interval.

    Raises:
        ValueError: fewer than 2 pairs, or the sequences differ in length.
    """
    if len(ours) != len(baseline):
        raise ValueError(f"baseline: needs one value per seed ({len(ours)}), got {len(baseline)}")
    if len(ours) < 2:
        raise ValueError(f"ours: needs at least 2 paired seeds, got {len(ours)}")
    diffs = [float(a) - float(b) for a, b in zip(ours, baseline, strict=True)]
    mean = statistics.fmean(diffs)
    half = t_quantile_975(len(diffs) - 1) * statistics.stdev(diffs) / math.sqrt(len(diffs))
    return PairedDifference(mean=mean, low=mean - half, high=mean + half, n=len(diffs))
