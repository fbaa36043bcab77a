"""dylora.functional against dylora.naive (same arguments), including gradients."""

from __future__ import annotations

import pytest
import torch
from dylora.functional import lora_update, truncated_delta_weight
from dylora.naive import naive_lora_update, naive_truncated_delta_weight
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=25, deadline=None)
@given(
    d_in=st.integers(1, 9),
    d_out=st.integers(1, 9),
    k=st.integers(1, 6),
    scale=st.floats(0.1, 8.0),
    seed=st.integers(0, 10_000),
)
def test_lora_update_equals_naive(d_in, d_out, k, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    args = [
        torch.randn(2, 3, d_in, generator=gen),
        torch.randn(k, d_in, generator=gen),
        torch.randn(d_out, k, generator=gen),
    ]
    fast_args = [t.clone().requires_grad_(True) for t in args]
    slow_args = [t.clone().requires_grad_(True) for t in args]
    fast = lora_update(*fast_args, scale)
    slow = naive_lora_update(*slow_args, scale)
    assert fast.shape == (2, 3, d_out)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
    g = torch.randn(fast.shape, generator=gen)
    fast.backward(g)
    slow.backward(g)
    for f, s in zip(fast_args, slow_args, strict=True):
        torch.testing.assert_close(f.grad, s.grad, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("scaling", ["alpha_over_b", "alpha_over_rmax"])
def test_truncated_delta_weight_equals_naive(scaling):
    gen = torch.Generator().manual_seed(0)
    lora_a, lora_b = torch.randn(8, 7, generator=gen), torch.randn(5, 8, generator=gen)
    for rank in range(1, 9):
        fast = truncated_delta_weight(lora_a, lora_b, rank, 16.0, scaling)
        assert fast.shape == (5, 7)
        torch.testing.assert_close(
            fast, naive_truncated_delta_weight(lora_a, lora_b, rank, 16.0, scaling)
        )
    # rank 1 uses row 0 / column 0 only, scaled by α/1 or α/r_max
    expected = torch.outer(lora_b[:, 0], lora_a[0]) * (16.0 if scaling == "alpha_over_b" else 2.0)
    torch.testing.assert_close(truncated_delta_weight(lora_a, lora_b, 1, 16.0, scaling), expected)
