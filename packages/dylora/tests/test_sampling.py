from __future__ import annotations

import collections

import pytest
from dylora import DyLoRAConfig, draw_rank

# chi-square critical value, 7 degrees of freedom, p = 0.001
CHI2_7_999 = 24.32


def chi2(counts, probs, n):
    return sum((counts.get(k, 0) - n * p) ** 2 / (n * p) for k, p in probs.items())


def test_uniform_passes_chi_square_and_stays_in_range():
    config = DyLoRAConfig(r_max=8)
    n = 10_000
    counts = collections.Counter(draw_rank(config, s) for s in range(n))
    assert set(counts) == set(range(1, 9))
    assert chi2(counts, config.rank_pmf(), n) < CHI2_7_999


def test_geometric_matches_its_pmf():
    config = DyLoRAConfig(r_min=2, r_max=9, rank_distribution="geometric", geometric_p=0.15)
    n = 10_000
    counts = collections.Counter(draw_rank(config, s) for s in range(n))
    assert set(counts) <= set(range(2, 10))
    assert chi2(counts, config.rank_pmf(), n) < CHI2_7_999
    assert counts[2] > counts[9]  # the mass sits at the low end


def test_deterministic_in_seed_and_step():
    a, b = DyLoRAConfig(seed=3), DyLoRAConfig(seed=3)
    seq = [draw_rank(a, s) for s in range(50)]
    assert seq == [draw_rank(b, s) for s in range(50)]
    # a run resumed at step 20 continues the same sequence
    assert seq[20:] == [draw_rank(b, s) for s in range(20, 50)]
    assert seq != [draw_rank(DyLoRAConfig(seed=4), s) for s in range(50)]
    assert draw_rank(a, 7, layer=0) != draw_rank(a, 7, layer=1) or draw_rank(a, 8, 0) != draw_rank(
        a, 8, 1
    )


def test_bad_step():
    with pytest.raises(ValueError, match="step: must be a non-negative integer"):
        draw_rank(DyLoRAConfig(), -1)
