"""The fast ops against their oracles (float64): naive.py, vanilla SDPA, explicit formulas."""

import math

import pytest
import torch
from integral_transformer.functional import (
    apply_rope,
    cog_attention,
    cog_weights,
    diff_lambda_init,
    integral_attention,
    integral_weights,
    rope_cos_sin,
    signal_rope,
    vanilla_attention,
)
from integral_transformer.naive import naive_cog_attention, naive_integral_attention
from papershelf.errors import UserError

D64 = torch.float64


def _qkv(b=2, h=8, h_kv=2, t=7, d=32, seed=0, grad=False):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(b, h, t, d, generator=g, dtype=D64)
    k = torch.randn(b, h_kv, t, d, generator=g, dtype=D64)
    v = torch.randn(b, h_kv, t, d, generator=g, dtype=D64)
    if grad:
        for x in (q, k, v):
            x.requires_grad_(True)
    return q, k, v


def _tables(b, t, d, s):
    cos, sin = signal_rope(torch.arange(t), d, s, dtype=D64)
    return cos.expand(b, -1, -1), sin.expand(b, -1, -1)


@pytest.mark.parametrize("num_signals", [1, 2, 4, 8])
@pytest.mark.parametrize("head_dim", [16, 32, 96])
@pytest.mark.parametrize("rope", [True, False])
def test_fast_path_equals_naive(num_signals, head_dim, rope):
    if head_dim // num_signals < 2:
        pytest.skip("d_h too small")
    h_kv = 2 if head_dim == 32 else 8
    q, k, v = _qkv(h_kv=h_kv, d=head_dim)
    cs = _tables(2, 7, head_dim, num_signals) if rope else None
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[1, :2] = False
    for m in (None, mask):
        fast = integral_attention(q, k, v, num_signals, cs, True, m)
        slow = naive_integral_attention(q, k, v, num_signals, cs, True, m)
        torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("signal_space", ["logit", "prob"])
def test_gradients_equal_naive(signal_space):
    q, k, v = _qkv(t=6, d=16, grad=True)
    cs = _tables(2, 6, 16, 4)
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[0, :1] = False
    grads = []
    for fn in (integral_attention, naive_integral_attention):
        out = fn(q, k, v, 4, cs, True, mask, signal_space)
        grads.append(torch.autograd.grad((out * torch.arange(16, dtype=D64)).sum(), (q, k, v)))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_s1_equals_vanilla():
    q, k, v = _qkv(d=32)
    cos, sin = rope_cos_sin(torch.arange(7), 32, dtype=D64)
    cs = cos.expand(2, -1, -1), sin.expand(2, -1, -1)
    torch.testing.assert_close(
        integral_attention(q, k, v, 1, cs), vanilla_attention(q, k, v, cs), rtol=1e-12, atol=1e-12
    )
    torch.testing.assert_close(integral_attention(q, k, v, 1), vanilla_attention(q, k, v))


@pytest.mark.parametrize("num_signals", [2, 4, 8])
def test_no_rope_is_vanilla_at_temperature_sqrt_s(num_signals):
    """Equivalence 1: without positions, Integral = vanilla with logits / sqrt(S)."""
    q, k, v = _qkv(d=32)
    expected = vanilla_attention(q, k, v, scale=1 / (math.sqrt(num_signals) * math.sqrt(32)))
    torch.testing.assert_close(
        integral_attention(q, k, v, num_signals), expected, rtol=1e-12, atol=1e-12
    )
    w_i = integral_weights(q, k, num_signals)
    w_v = integral_weights(q / math.sqrt(num_signals), k, 1)
    torch.testing.assert_close(w_i, w_v, rtol=1e-12, atol=1e-12)


def test_per_signal_rope_is_tiled_ladder_after_permutation():
    """Equivalence 3: per-signal RoPE = head-level RoPE with the d_h ladder tiled S times
    and temperature sqrt(S), after a fixed permutation of the head dims."""
    s, d, t = 4, 32, 9
    d_h = d // s
    q, k, v = _qkv(d=d, t=t)
    cs = _tables(2, t, d, s)
    ours = integral_attention(q, k, v, s, cs)
    # perm: signal s, j < d_h/2 -> s*d_h/2 + j ; j >= d_h/2 -> d/2 + s*d_h/2 + (j - d_h/2)
    perm = torch.empty(d, dtype=torch.long)
    for sig in range(s):
        for j in range(d_h):
            half, jj = divmod(j, d_h // 2)
            perm[half * d // 2 + sig * d_h // 2 + jj] = sig * d_h + j
    theta = 1.0 / (10000 ** (torch.arange(0, d_h, 2, dtype=D64) / d_h))
    freqs = torch.arange(t, dtype=D64)[:, None] * theta.repeat(s)
    emb = torch.cat([freqs, freqs], -1)
    tiled = emb.cos()[None].expand(2, -1, -1), emb.sin()[None].expand(2, -1, -1)
    qp, kp = apply_rope(q[..., perm], *tiled), apply_rope(k[..., perm], *tiled)
    expected = vanilla_attention(qp, kp, v, scale=1 / (math.sqrt(s) * math.sqrt(d)))
    torch.testing.assert_close(ours, expected, rtol=1e-6, atol=1e-6)  # float32 angles


def test_signal_rope_uses_the_d_h_ladder():
    cos, sin = signal_rope(torch.arange(5), 32, 4, dtype=D64)
    d_h = 8
    theta = 1.0 / 10000 ** (torch.arange(0, d_h, 2, dtype=D64) / d_h)
    expected = torch.arange(5, dtype=D64)[:, None] * theta
    block = torch.atan2(sin[0, :, :4], cos[0, :, :4])
    torch.testing.assert_close(
        block, torch.atan2(expected.sin(), expected.cos()), atol=1e-6, rtol=0
    )
    torch.testing.assert_close(cos[0, :, :8], cos[0, :, 8:16])
    assert not torch.allclose(cos, rope_cos_sin(torch.arange(5), 32, dtype=D64)[0])


def test_rows_nonnegative_sum_to_one_and_causal():
    q, k, v = _qkv(d=32, t=8)
    cs = _tables(2, 8, 32, 4)
    w = integral_weights(q, k, 4, cs)
    assert (w >= 0).all()
    torch.testing.assert_close(w.sum(-1), torch.ones_like(w.sum(-1)))
    assert (w.triu(1) == 0).all()
    out = integral_attention(q, k, v, 4, cs)
    k2, v2 = k.clone(), v.clone()
    k2[:, :, 5:] += 1.0
    v2[:, :, 5:] -= 3.0
    torch.testing.assert_close(integral_attention(q, k2, v2, 4, cs)[:, :, :5], out[:, :, :5])


def test_padding_is_ignored():
    q, k, v = _qkv(b=1, d=16, t=6)
    mask = torch.tensor([[False, False, True, True, True, True]])
    out = integral_attention(q, k, v, 2, None, True, mask)
    k2, v2 = k.clone(), v.clone()
    k2[:, :, :2] = 100.0
    v2[:, :, :2] = -100.0
    torch.testing.assert_close(
        integral_attention(q, k2, v2, 2, None, True, mask)[:, :, 2:], out[:, :, 2:]
    )


def test_prob_space_s1_and_identical_signals():
    q, k, v = _qkv(d=16)
    torch.testing.assert_close(
        integral_attention(q, k, v, 1, signal_space="prob"),
        integral_attention(q, k, v, 1),
        rtol=1e-12,
        atol=1e-12,
    )
    # identical signals: each block equal -> both spaces equal the clean softmax of one block
    qb, kb = q[..., :4].repeat(1, 1, 1, 4), k[..., :4].repeat(1, 1, 1, 4)
    a = integral_weights(qb, kb, 4, signal_space="prob")
    b = integral_weights(qb, kb, 4, signal_space="logit")
    c = integral_weights(q[..., :4], k[..., :4], 1)
    torch.testing.assert_close(a, c, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b, c, rtol=1e-12, atol=1e-12)


def test_cog_matches_naive_and_properties():
    q, k, v = _qkv(d=16)
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[1, :3] = False
    torch.testing.assert_close(
        cog_attention(q, k, v, True, mask),
        naive_cog_attention(q, k, v, True, mask),
        rtol=1e-12,
        atol=1e-12,
    )
    w = cog_weights(q, k)
    torch.testing.assert_close(w.abs().sum(-1), torch.ones(2, 8, 7, dtype=D64))
    s = q @ k.repeat_interleave(4, 1).transpose(-1, -2)
    assert (torch.sign(w).tril() == torch.sign(s).tril()).all()
    assert (w.triu(1) == 0).all()


def test_diff_lambda_init_schedule():
    assert diff_lambda_init(0) == pytest.approx(0.2)
    assert diff_lambda_init(1) == pytest.approx(0.8 - 0.6 * math.exp(-0.3))
    assert diff_lambda_init(2) == pytest.approx(0.4707, abs=1e-4)


def test_bad_signals():
    q, k, v = _qkv(d=32)
    with pytest.raises(UserError, match="num_signals: must divide head_dim 32"):
        integral_attention(q, k, v, 3)
    with pytest.raises(UserError, match="even"):
        signal_rope(torch.arange(3), 32, 32)
    with pytest.raises(UserError, match=">= 1"):
        integral_attention(q, k, v, 0)
