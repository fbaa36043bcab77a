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

# two-sided 95 % Student-t quantiles t_{0.975, df}, df = 1..30; beyond, the Cornish-Fisher
# term z + (z^3 + z) / (4 df), within 0.003 of the exact value
_T975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip
_Z975 = 1.959964


def t_quantile_975(df: int) -> float:
    """``t_{0.975}`` with ``df`` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError(f"df: must be >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    return _Z975 + (_Z975**3 + _Z975) / (4 * df)


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
