"""hybrid_attention and sliding_window_mask against the naive references and transformers."""

import pytest
import torch
import torch.nn.functional as F
from bosch.functional import hybrid_attention, sliding_window_mask
from bosch.naive import naive_hybrid_attention, naive_sliding_window_mask
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    q_len=st.integers(1, 9),
    extra=st.integers(0, 6),
    window=st.integers(1, 12),
    sinks=st.integers(0, 3),
)
def test_mask_equals_naive(q_len, extra, window, sinks):
    kv_len = q_len + extra
    args = (q_len, kv_len, window, sinks)
    assert torch.equal(sliding_window_mask(*args), naive_sliding_window_mask(*args))


@pytest.mark.parametrize("window", [1, 3, 5, 16])
def test_mask_equals_transformers_sliding_window(window):
    from transformers.masking_utils import sliding_window_causal_mask_function

    fn = sliding_window_causal_mask_function(window)
    T = 11
    t = torch.tensor
    ref = torch.tensor([[bool(fn(t(0), t(0), t(i), t(j))) for j in range(T)] for i in range(T)])
    assert torch.equal(sliding_window_mask(T, T, window), ref)


def test_mask_edge_cases():
    T = 7
    assert torch.equal(sliding_window_mask(T, T, T), torch.ones(T, T, dtype=torch.bool).tril())
    assert torch.equal(sliding_window_mask(T, T, 100), torch.ones(T, T, dtype=torch.bool).tril())
    assert torch.equal(sliding_window_mask(T, T, 1), torch.eye(T, dtype=torch.bool))
    # W keys including the query itself: each row has min(i + 1, W) keys
    assert sliding_window_mask(T, T, 3).sum(-1).tolist() == [1, 2, 3, 3, 3, 3, 3]


def _qkv(batch=2, heads=4, kv_heads=2, q_len=6, kv_len=6, dim=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, heads, q_len, dim, generator=g, dtype=torch.float64)
    k = torch.randn(batch, kv_heads, kv_len, dim, generator=g, dtype=torch.float64)
    v = torch.randn(batch, kv_heads, kv_len, dim, generator=g, dtype=torch.float64)
    return q, k, v


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    swa=st.lists(st.booleans(), min_size=2, max_size=2),
    window=st.integers(1, 7),
    sinks=st.integers(0, 2),
    q_len=st.sampled_from([1, 3, 6]),
)
def test_hybrid_attention_equals_naive(swa, window, sinks, q_len):
    q, k, v = _qkv(q_len=q_len, kv_len=6)
    args = (q, k, v, torch.tensor(swa), window, sinks)
    torch.testing.assert_close(hybrid_attention(*args), naive_hybrid_attention(*args))


def test_hybrid_attention_with_padding_mask_equals_naive():
    q, k, v = _qkv()
    pad = torch.ones(2, 1, 6, 6, dtype=torch.bool)
    pad[1, ..., :2] = False  # left padding in row 1
    pad &= torch.ones(6, 6, dtype=torch.bool).tril()
    pad[1, :, :2, :2] = torch.eye(2, dtype=torch.bool)  # padded queries see themselves
    args = (q, k, v, torch.tensor([True, False]), 3, 0, pad)
    torch.testing.assert_close(hybrid_attention(*args), naive_hybrid_attention(*args))


def test_all_full_is_plain_causal_sdpa_bitwise():
    q, k, v = _qkv(seed=1)
    out = hybrid_attention(q, k, v, torch.tensor([False, False]), 2)
    kq, vq = k.repeat_interleave(2, 1), v.repeat_interleave(2, 1)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    assert torch.equal(out, F.scaled_dot_product_attention(q, kq, vq, attn_mask=mask))


def test_mixed_heads_equal_pure_runs_head_by_head():
    q, k, v = _qkv(seed=2)
    full = hybrid_attention(q, k, v, torch.tensor([False, False]), 2)
    swa = hybrid_attention(q, k, v, torch.tensor([True, True]), 2)
    mixed = hybrid_attention(q, k, v, torch.tensor([True, False]), 2)
    # KV group 0 = query heads 0, 1 (SWA); group 1 = heads 2, 3 (full): GQA decisions per group
    torch.testing.assert_close(mixed[:, :2], swa[:, :2])
    torch.testing.assert_close(mixed[:, 2:], full[:, 2:])
    assert not torch.allclose(swa[:, :2], full[:, :2])


def test_window_at_least_context_equals_full():
    q, k, v = _qkv(seed=3)
    a = hybrid_attention(q, k, v, torch.tensor([True, True]), 6)
    b = hybrid_attention(q, k, v, torch.tensor([False, False]), 6)
    torch.testing.assert_close(a, b)
