"""The naive references on hand-computed cases."""

import torch
from bosch.naive import naive_hybrid_attention, naive_sliding_window_mask


def test_naive_mask_by_hand():
    expected = torch.tensor(
        [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=torch.bool
    )
    assert torch.equal(naive_sliding_window_mask(4, 4, 2), expected)
    sinks = naive_sliding_window_mask(4, 4, 1, sink_tokens=1)
    assert sinks.tolist()[3] == [True, False, False, True]


def test_naive_attention_window_one_returns_own_value():
    q = torch.randn(1, 2, 5, 3, dtype=torch.float64)
    k = torch.randn(1, 1, 5, 3, dtype=torch.float64)
    v = torch.randn(1, 1, 5, 3, dtype=torch.float64)
    out = naive_hybrid_attention(q, k, v, torch.tensor([True]), 1)
    torch.testing.assert_close(out, v.expand(1, 2, 5, 3))
