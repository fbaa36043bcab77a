"""The quick experiments' helpers: the split, the noisy teacher, the paired statistics."""

import numpy as np
import pytest
import torch
from continuation_kd import digits as D
from scipy import stats


def test_split_sizes_stratified_and_seeded():
    a, b = D.digits_split(3), D.digits_split(3)
    assert [len(s["labels"]) for s in (a.train, a.val, a.test)] == [1000, 200, 597]
    assert torch.equal(a.train["x"], b.train["x"])
    assert float(a.train["x"].min()) >= 0.0 and float(a.train["x"].max()) <= 1.0
    counts = torch.bincount(a.train["labels"], minlength=10)
    assert int(counts.min()) >= 95  # stratified: about 100 per class
    assert a.as_images().train["x"].shape == (1000, 1, 8, 8)
    assert not torch.equal(D.digits_split(4).train["x"], a.train["x"])


def test_noisy_logits_std_matches_and_is_fixed():
    logits = 3 * torch.randn(500, 10, generator=torch.Generator().manual_seed(0))
    noisy = D.noisy_logits(logits, 1)
    assert float((noisy - logits).std()) == pytest.approx(float(logits.std()), rel=0.05)
    assert torch.equal(noisy, D.noisy_logits(logits, 1))


def test_paired_stats_against_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=10), rng.normal(size=10)
    out = D.paired_stats(list(a), list(b))
    assert out["p_value"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    lo, hi = stats.t.interval(0.95, 9, loc=(a - b).mean(), scale=stats.sem(a - b))
    assert (out["ci_low"], out["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert D.mean_ci([1.0, 1.0])[1] == 0.0
