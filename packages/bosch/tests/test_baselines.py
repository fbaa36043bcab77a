"""Layer-level masks and static rankings: ratios, nesting, refusals, entanglement."""

import itertools
from types import SimpleNamespace

import pytest
import torch
from bosch.baselines import layer_mask, rank_heads, static_mask
from bosch.config import BoschConfig, TaskConfig, TinyLMConfig
from bosch.mask import HeadMask, exact_count
from bosch.model import TinyRetrievalLM
from bosch.search import search_masks
from bosch.task import make_batch
from hypothesis import given, settings
from hypothesis import strategies as st
from papershelf.errors import UserError


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    layers=st.integers(1, 6),
    groups=st.integers(1, 5),
    seed=st.integers(0, 10**6),
)
def test_static_masks_are_nested_across_ratios(layers, groups, seed):
    imp = torch.rand(layers, groups, generator=torch.Generator().manual_seed(seed))
    imp[0, 0] = imp[-1, -1]  # a tie
    masks = [static_mask(imp, r) for r in (0.0, 0.25, 0.5, 0.75, 0.875, 1.0)]
    for a, b in itertools.pairwise(masks):
        assert a.turnover(b) == 0.0
        assert a.groups() <= b.groups()
    assert masks[2].count == exact_count(0.5, layers * groups)


def test_layer_masks():
    for kind in ("rand", "bme", "intr"):
        m = layer_mask(kind, 0.5, 4, 2)
        assert m.count == 4 and all(c in (0, 2) for c in m.per_layer_counts())
    assert layer_mask("bme", 0.4, 5, 1).per_layer_counts() == [0, 1, 0, 1, 0]  # full: 0, 2, 4
    assert layer_mask("intr", 0.5, 4, 1).per_layer_counts() == [1, 0, 1, 0]
    assert layer_mask("intr", 0.0, 4, 2) == HeadMask.zeros(4, 2)
    assert layer_mask("rand", 1.0, 4, 2) == HeadMask.ones(4, 2)
    with pytest.raises(UserError, match="kind"):
        layer_mask("every", 0.5, 4, 2)


def test_unknown_and_unverified_methods():
    model = SimpleNamespace(num_layers=2, num_kv_heads=2)
    with pytest.raises(UserError, match="definition unverified"):
        rank_heads("apl", model, None, 4)
    with pytest.raises(UserError, match="one of"):
        rank_heads("magic", model, None, 4)


def test_probe_rankings_run_on_the_tiny_model():
    torch.manual_seed(0)
    model = TinyRetrievalLM(TinyLMConfig(dim=32, num_layers=2, ffn_dim=32)).eval()
    task = TaskConfig(num_keys=6, filler=6)
    calib = make_batch(task, 4, torch.Generator().manual_seed(0))
    for method in ("locality", "razor", "fisher", "random"):
        imp = rank_heads(method, model, calib, window=3)
        assert imp.shape == (2, 2) and torch.isfinite(imp).all()
    # locality = mass beyond the window: 0 when the window covers everything
    assert rank_heads("locality", model, calib, window=100).abs().max() == 0


def test_entanglement_static_ranking_fails_and_search_succeeds():
    """Groups a and b are each cheap to convert but costly together (pairwise interaction)."""
    cost = {(0, 0): 0.1, (0, 1): 0.2, (0, 2): 0.3, (0, 3): 0.4}

    def score(mask):
        groups = mask.groups()
        c = sum(cost[g] for g in groups) + (1.0 if {(0, 0), (0, 1)} <= groups else 0.0)
        return 1.0 - c / 2.0

    model = SimpleNamespace(num_layers=1, num_kv_heads=4)
    imp = rank_heads("ablation", model, None, 4, score_fn=score)
    static = static_mask(imp, 0.5)
    found = search_masks(score, (1, 4), BoschConfig(ratio=0.5, window=4)).mask
    assert static.groups() == {(0, 0), (0, 1)}
    assert found.groups() == {(0, 0), (0, 2)}
    assert score(found) > score(static)
