import math

import pytest
from papershelf.stats import paired_difference, t_quantile_975


def t_cdf_minus_half(x: float, df: int, n: int = 4000) -> float:
    """P(0 < T < x) for Student's t, by Simpson's rule on its density (the oracle)."""
    c = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
    f = lambda t: c * (1 + t * t / df) ** (-(df + 1) / 2)  # noqa: E731
    h = x / n
    s = f(0) + f(x) + sum((4 if i % 2 else 2) * f(i * h) for i in range(1, n))
    return s * h / 3


@pytest.mark.parametrize("df", [1, 2, 3, 4, 9, 29, 30, 31, 60, 200])
def test_t_quantile_is_the_975_point(df):
    assert t_cdf_minus_half(t_quantile_975(df), df) == pytest.approx(0.475, abs=2e-4)


def test_interval_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    ours, base = [0.70, 0.66, 0.69, 0.72], [0.65, 0.64, 0.66, 0.70]
    d = paired_difference(ours, base)
    diffs = [a - b for a, b in zip(ours, base, strict=True)]
    low, high = stats.t.interval(
        0.95, len(diffs) - 1, loc=stats.tmean(diffs), scale=stats.sem(diffs)
    )
    assert d.low == pytest.approx(low, abs=1e-4) and d.high == pytest.approx(high, abs=1e-4)


def test_verdict_from_the_interval():
    assert paired_difference([2, 3, 4], [1, 2, 3.1]).holds is True
    assert paired_difference([1, 2, 3], [2, 3, 4.1]).holds is False
    assert paired_difference([1, 2, 3], [1.5, 1.5, 3]).holds is None
    assert "over 3 seeds" in paired_difference([1, 2, 3], [1.5, 1.5, 3]).describe()
    with pytest.raises(ValueError, match="at least 2"):
        paired_difference([1.0], [0.5])
    with pytest.raises(ValueError, match="one value per seed"):
        paired_difference([1.0, 2.0], [0.5])
