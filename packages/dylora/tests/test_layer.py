"""DyLoRALinear against the naive LoRA formula, autograd and the √ trick."""

from __future__ import annotations

import pytest
import torch
from dylora import DyLoRAConfig, DyLoRALinear
from dylora.naive import naive_lora_update, naive_truncated_delta_weight
from hypothesis import given, settings
from hypothesis import strategies as st
from papershelf import UserError
from torch import nn


def make_layer(d_in=6, d_out=5, r_max=4, seed=0, randomize=True, **kw):
    torch.manual_seed(seed)
    layer = DyLoRALinear(nn.Linear(d_in, d_out), DyLoRAConfig(r_max=r_max, **kw))
    if randomize:
        with torch.no_grad():
            layer.lora_B.weight.normal_()
    return layer


def test_identity_at_init_at_every_rank():
    layer = make_layer(randomize=False)
    x = torch.randn(3, 6)
    for b in range(1, 5):
        layer.rank = b
        assert torch.equal(layer(x), layer.base_layer(x))


@settings(max_examples=25, deadline=None)
@given(
    d_in=st.integers(1, 9),
    d_out=st.integers(1, 9),
    r_max=st.integers(1, 6),
    data=st.data(),
    scaling=st.sampled_from(["alpha_over_b", "alpha_over_rmax"]),
    mode=st.sampled_from(["frozen", "all"]),
)
def test_rank_b_equals_naive_lora(d_in, d_out, r_max, data, scaling, mode):
    b = data.draw(st.integers(1, r_max))
    layer = make_layer(d_in, d_out, r_max, scaling=scaling, update_mode=mode, alpha=3.0)
    layer.eval()
    layer.rank = b
    a = layer.lora_A.weight.detach()[:b].clone().requires_grad_(True)
    up = layer.lora_B.weight.detach()[:, :b].clone().requires_grad_(True)
    x = torch.randn(2, 3, d_in, requires_grad=True)
    x2 = x.detach().clone().requires_grad_(True)
    scale = 3.0 / (b if scaling == "alpha_over_b" else r_max)
    w, bias = layer.base_layer.weight.detach(), layer.base_layer.bias.detach()
    ref = x2 @ w.T + bias + naive_lora_update(x2, a, up, scale)
    out = layer(x)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-6)
    g = torch.randn_like(out)
    out.backward(g)
    ref.backward(g)
    torch.testing.assert_close(x.grad, x2.grad, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(layer.lora_A.weight.grad[:b], a.grad, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(layer.lora_B.weight.grad[:, :b], up.grad, atol=1e-6, rtol=1e-6)
    assert torch.count_nonzero(layer.lora_A.weight.grad[b:]) == 0
    assert torch.count_nonzero(layer.lora_B.weight.grad[:, b:]) == 0


@pytest.mark.parametrize("scaling", ["alpha_over_b", "alpha_over_rmax"])
def test_delta_weight_equals_naive_sqrt_trick(scaling):
    """delta_weight(b) equals the official code's √ trick (α/b) or the constant α/r_max rule."""
    layer = make_layer(r_max=8, alpha=16.0, scaling=scaling)
    a, up = layer.lora_A.weight.detach(), layer.lora_B.weight.detach()
    for b in range(1, 9):
        torch.testing.assert_close(
            naive_truncated_delta_weight(a, up, b, 16.0, scaling),
            layer.delta_weight(b).detach(),
            atol=1e-6,
            rtol=1e-5,
        )


def test_off_by_one_rank_1_uses_one_row():
    layer = make_layer(r_max=4)
    layer.eval()
    x = torch.randn(3, 6)
    layer.rank = 1
    y = layer(x)
    with torch.no_grad():
        layer.lora_A.weight[1:].add_(5.0)
        layer.lora_B.weight[:, 1:].add_(5.0)
    assert torch.equal(layer(x), y)
    layer.rank = 4
    assert not torch.allclose(layer(x), y)
    with pytest.raises(UserError, match=r"rank: must be in \[1, 4\], got 0"):
        layer.rank = 0
    with pytest.raises(UserError, match=r"rank: must be in \[1, 4\], got 5"):
        layer.rank = 5


def _grads(layer, b, x):
    layer.train()
    layer.zero_grad()
    layer.rank = b
    layer(x).pow(2).sum().backward()
    return layer.lora_A.weight.grad.clone(), layer.lora_B.weight.grad.clone()


@pytest.mark.parametrize("b", [1, 2, 3, 4])
def test_frozen_mode_only_row_b_learns(b):
    x = torch.randn(7, 6)
    layer = make_layer(r_max=4, update_mode="frozen")
    ga, gb = _grads(layer, b, x)
    for row in range(4):
        nonzero_a = bool(torch.count_nonzero(ga[row]))
        nonzero_b = bool(torch.count_nonzero(gb[:, row]))
        assert nonzero_a == (row == b - 1), (row, b)
        assert nonzero_b == (row == b - 1), (row, b)
    all_layer = make_layer(r_max=4, update_mode="all")
    ga_all, gb_all = _grads(all_layer, b, x)
    for row in range(4):
        assert bool(torch.count_nonzero(ga_all[row])) == (row < b)
        assert bool(torch.count_nonzero(gb_all[:, row])) == (row < b)
    # Frozen only detaches: row b's gradient is the same as in "all" mode.
    torch.testing.assert_close(ga[b - 1], ga_all[b - 1])
    torch.testing.assert_close(gb[:, b - 1], gb_all[:, b - 1])
    if b == 1:
        assert torch.equal(ga, ga_all) and torch.equal(gb, gb_all)


def test_merge_equals_unmerged_at_several_ranks_and_unmerge_restores():
    layer = make_layer(r_max=4)
    layer.eval()
    x = torch.randn(5, 6)
    w0 = layer.base_layer.weight.detach().clone()
    for b in (1, 2, 4):
        layer.rank = b
        y = layer(x)
        layer.merge(b)
        assert layer.merged and layer.merged_rank == b
        torch.testing.assert_close(layer(x), y, atol=1e-6, rtol=1e-6)
        with pytest.raises(UserError, match="merged at rank"):
            layer.rank = 3 if b != 3 else 1
        with pytest.raises(UserError, match="already merged at rank"):
            layer.merge(1)
        layer.unmerge()
        torch.testing.assert_close(layer.base_layer.weight, w0, atol=1e-6, rtol=0)


def test_dtype_and_device_follow_base():
    base = nn.Linear(4, 3).to(torch.float64)
    layer = DyLoRALinear(base, DyLoRAConfig(r_max=2))
    assert layer.lora_A.weight.dtype == torch.float64
    assert layer(torch.randn(2, 4, dtype=torch.float64)).dtype == torch.float64


def test_gaussian_init_and_base_frozen():
    layer = DyLoRALinear(nn.Linear(64, 3), DyLoRAConfig(r_max=4, init="gaussian"))
    assert not layer.base_layer.weight.requires_grad
    assert torch.count_nonzero(layer.lora_B.weight) == 0
    assert 0.15 < layer.lora_A.weight.std().item() < 0.35  # σ = 1/r_max = 0.25
