"""TinyRetrievalLM: ratio 0 / 1 oracles, and decoding with the bounded cache."""

import pytest
import torch
from bosch.config import TinyLMConfig
from bosch.mask import HeadMask
from bosch.model import RollingHybridCache, TinyRetrievalLM


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = TinyLMConfig(dim=32, num_layers=3, num_heads=4, num_kv_heads=2, ffn_dim=32, **kw)
    return TinyRetrievalLM(cfg).double().eval()


def test_ratio_zero_leaves_logits_unchanged():
    model = _model()
    ids = torch.randint(0, 64, (2, 12))
    ref = model(ids)
    model.set_hybrid(HeadMask.zeros(3, 2), window=3)
    assert torch.equal(model(ids), ref)


def test_window_beyond_sequence_equals_full():
    model = _model()
    ids = torch.randint(0, 64, (2, 12))
    ref = model(ids)
    model.set_hybrid(HeadMask.ones(3, 2), window=12)
    torch.testing.assert_close(model(ids), ref)
    model.set_hybrid(HeadMask.ones(3, 2), window=3)
    assert not torch.allclose(model(ids), ref)


@pytest.mark.parametrize(
    "rows,window,sinks",
    [([[1, 0], [0, 1], [1, 1]], 3, 0), ([[0, 0], [1, 1], [0, 1]], 4, 2), ([[1, 1]] * 3, 1, 0)],
)
def test_decoding_with_bounded_cache_equals_masked_forward(rows, window, sinks):
    model = _model(seed=1)
    mask = HeadMask(rows)
    model.set_hybrid(mask, window, sinks)
    ids = torch.randint(0, 64, (2, 14))
    ref = model(ids)  # masked full-sequence forward
    cache = model.new_cache()
    prefill = 5
    outs = [model(ids[:, :prefill], cache)]
    for t in range(prefill, ids.shape[1]):
        outs.append(model(ids[:, t : t + 1], cache))
        # the SWA groups' buffers never exceed sinks + W tokens
        for li in range(3):
            if cache.swa_k[li] is not None:
                assert cache.swa_k[li].shape[2] == min(t + 1, sinks + window)
    torch.testing.assert_close(torch.cat(outs, dim=1), ref)
    head_dim = 32 // 4
    entries = mask.kv_entries(ids.shape[1], window, sinks)
    assert cache.nbytes() == entries * 2 * head_dim * 2 * 8  # batch 2, K and V, float64


def test_fill_random_bytes_match_formula():
    mask = HeadMask([[1, 0], [1, 1]])
    cache = RollingHybridCache(mask, window=16)
    cache.fill_random(batch=1, seq_len=100, head_dim=4)
    assert cache.nbytes() == mask.kv_entries(100, 16) * 4 * 2 * 4


def test_shape_mismatch_refused():
    from papershelf.errors import UserError

    with pytest.raises(UserError, match="shape must be"):
        _model().set_hybrid(HeadMask.zeros(2, 2), 3)
