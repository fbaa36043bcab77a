import pytest
import torch
from dyngraph_survey_models.negatives import NegativeSampler
from dyngraph_survey_models.splits import chronological_split
from papershelf.errors import UserError


def _batch(s, lo, hi):
    return s.src[lo:hi], s.dst[lo:hi], float(s.t[lo])


def test_random_keeps_source_and_avoids_positive(small_stream):
    s = small_stream
    src, dst, t0 = _batch(s, 400, 450)
    ns, nd = NegativeSampler("random", s, seed=0).sample(src, dst, t0, k=5)
    assert torch.equal(ns, src.view(-1, 1).expand(-1, 5))
    assert (nd != dst.view(-1, 1)).all()
    assert (nd >= s.num_src_nodes).all() and (nd < s.num_nodes).all()
    _, nd2 = NegativeSampler("random", s, seed=0).sample(src, dst, t0, k=5)
    assert torch.equal(nd, nd2)


@pytest.mark.parametrize("strategy", ["historical", "inductive"])
def test_historical_and_inductive_pools(small_stream, strategy):
    s = small_stream
    sp = chronological_split(s, protocol="transductive-only")
    lo = len(sp.train) + len(sp.val) + 10
    src, dst, t0 = _batch(s, lo, lo + 20)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ns, nd = NegativeSampler(strategy, s, last_observed_time=sp.val_time, seed=1).sample(
            src, dst, t0, k=1
        )
    before = s.t < t0
    seen = set(zip(s.src[before].tolist(), s.dst[before].tolist(), strict=True))
    train_edges = set(zip(sp.train.src.tolist(), sp.train.dst.tolist(), strict=True))
    batch = set(zip(src.tolist(), dst.tolist(), strict=True))
    pool = seen - batch - (train_edges if strategy == "inductive" else set())
    pairs = list(zip(ns.view(-1).tolist(), nd.view(-1).tolist(), strict=True))
    assert len(set(pairs)) == len(pairs)  # without replacement
    assert not set(pairs) & batch
    if len(pool) >= len(pairs):
        assert set(pairs) <= pool
    else:  # the pool is used up first, then random pairs fill the shortfall
        assert pool <= set(pairs)


def test_historical_shortfall_warns_and_fills(small_stream):
    s = small_stream
    src, dst, t0 = _batch(s, 2, 30)
    with pytest.warns(UserWarning, match="filling with random"):
        ns, _ = NegativeSampler("historical", s, seed=0).sample(src, dst, t0, k=2)
    assert ns.shape == (28, 2)


def test_bad_arguments(small_stream):
    with pytest.raises(UserError, match="negatives"):
        NegativeSampler("hard", small_stream)
    with pytest.raises(UserError, match="candidate destinations"):
        NegativeSampler("random", small_stream).sample(
            small_stream.src[:2], small_stream.dst[:2], 0.0, k=1000
        )
