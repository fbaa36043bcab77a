"""Attention modules: S=1 equals vanilla with the same weights, parameter counts, Diff details."""

import math

import torch
from integral_transformer.config import IntegralConfig
from integral_transformer.functional import apply_rope, rope_cos_sin
from integral_transformer.layer import (
    CogAttention,
    DiffAttention,
    IntegralAttention,
    VanillaAttention,
)

D64 = torch.float64


def _x(b=2, t=9, d=64):
    return torch.randn(b, t, d, generator=torch.Generator().manual_seed(1), dtype=D64)


def _pos(b=2, t=9):
    return torch.arange(t).expand(b, t)


def test_s1_module_equals_vanilla_and_params_equal():
    torch.manual_seed(0)
    van = VanillaAttention(64, 4, 2).double()
    for s in (1, 2, 4, 8):
        intg = IntegralAttention(64, 4, 2, IntegralConfig(num_signals=s)).double()
        assert sum(p.numel() for p in intg.parameters()) == sum(p.numel() for p in van.parameters())
    intg = IntegralAttention(64, 4, 2, IntegralConfig(num_signals=1)).double()
    intg.load_state_dict(van.state_dict())
    x = _x()
    torch.testing.assert_close(intg(x, _pos())[0], van(x, _pos())[0], rtol=1e-12, atol=1e-12)


def test_head_mode_is_temperature():
    torch.manual_seed(0)
    van = VanillaAttention(64, 4).double()
    intg = IntegralAttention(64, 4, None, IntegralConfig(num_signals=4, rope_mode="head")).double()
    intg.load_state_dict(van.state_dict())
    with torch.no_grad():
        van.q_proj.weight /= 2.0  # sqrt(S) = 2
    x = _x()
    torch.testing.assert_close(intg(x, _pos())[0], van(x, _pos())[0], rtol=1e-12, atol=1e-12)


def test_explicit_weights_path_equals_fast_path():
    torch.manual_seed(0)
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, :2] = False
    for mod in (
        VanillaAttention(64, 4, 2),
        IntegralAttention(64, 4, 2, IntegralConfig(num_signals=4)),
        IntegralAttention(64, 4, 2, IntegralConfig(num_signals=2, signal_space="prob")),
        CogAttention(64, 4, 2),
        DiffAttention(64, 4, 2, layer_idx=2),
    ):
        mod = mod.double()
        fast, none = mod(_x(), _pos(), mask)
        slow, w = mod(_x(), _pos(), mask, output_attentions=True)
        assert none is None and w is not None
        torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-12)


def test_diff_rows_sum_to_one_minus_lambda_and_layout():
    torch.manual_seed(0)
    mod = DiffAttention(64, 4, layer_idx=3).double()
    assert mod.num_heads == 2 and mod.head_dim == 16  # heads halved once, head_dim not halved twice
    assert mod.v_proj.out_features == 64 and mod.subln.weight.numel() == 32
    assert mod.lambda_init == 0.8 - 0.6 * math.exp(-0.9)
    _, w = mod(_x(), _pos(), output_attentions=True)
    lam = mod.lam().item()
    torch.testing.assert_close(w.sum(-1), torch.full_like(w.sum(-1), 1 - lam))
    # explicit: half-head 2i vs 2i+1 of the q/k projections
    x = _x()
    q = mod.q_proj(x).view(2, 9, 4, 16).transpose(1, 2)
    k = mod.k_proj(x).view(2, 9, 4, 16).transpose(1, 2)
    cos, sin = rope_cos_sin(_pos(), 16, dtype=D64)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    causal = torch.ones(9, 9, dtype=torch.bool).tril()
    s = (q @ k.transpose(-1, -2) / 4.0).masked_fill(~causal, float("-inf")).softmax(-1)
    torch.testing.assert_close(w, s[:, 0::2] - lam * s[:, 1::2])


def test_cog_weights_signs():
    torch.manual_seed(0)
    mod = CogAttention(64, 4).double()
    _, w = mod(_x(), _pos(), output_attentions=True)
    torch.testing.assert_close(w.abs().sum(-1), torch.ones_like(w.sum(-1)))
    assert (w < 0).any()
