"""Exact periodicity, prefix consistency, layouts and partial rotary of ``RotaryEmbedding``."""

from __future__ import annotations

import math

import pytest
import torch
from resonance_rope import RopeConfig, RotaryEmbedding, apply_rotary
from resonance_rope.naive import naive_resonance_round, naive_rotary_angles


def positions(n: int) -> torch.Tensor:
    return torch.arange(n)[None]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("rope_type", ["resonance", "resonance_yarn"])
def test_exact_periodicity_bitwise(dtype, rope_type):
    cfg = RopeConfig(128, rope_type=rope_type, factor=8.0, original_max_position_embeddings=4096)
    rot = RotaryEmbedding(cfg, 32768)
    x = torch.zeros(1, dtype=dtype)
    cos, sin = rot(x, positions(32768))
    lam = rot.int_wavelength
    checked = 0
    for j in range(cfg.rotary_dim // 2):
        period = int(lam[j])
        if 0 < period <= 4096:
            t = torch.arange(0, 32768 - period, 97)
            for col in (j, j + cfg.rotary_dim // 2):
                assert torch.equal(cos[0, t, col], cos[0, t + period, col])
                assert torch.equal(sin[0, t, col], sin[0, t + period, col])
            checked += 1
    assert checked >= (46 if rope_type == "resonance" else 39)


def test_float32_plain_product_drifts_but_modular_does_not():
    """The reason for integer remainders: t * theta~ in float32 is not periodic at large t."""
    cfg = RopeConfig(128, rope_type="resonance")
    rot = RotaryEmbedding(cfg, 32768)
    lam = int(rot.int_wavelength[3])
    t = torch.arange(32768 - lam)
    plain = lambda pos: (pos[:, None].float() * rot.inv_freq[3]).cos()  # noqa: E731
    assert (plain(t) - plain(t + lam)).abs().max() > 1e-4
    cos = rot.table(32768)[0]
    assert torch.equal(cos[t, 3], cos[t + lam, 3])


@pytest.mark.parametrize(
    "rope_type", ["default", "resonance", "yarn", "resonance_yarn", "dynamic_yarn"]
)
def test_prefix_consistency(rope_type):
    cfg = RopeConfig(64, rope_type=rope_type, factor=4.0, original_max_position_embeddings=256)
    short = RotaryEmbedding(cfg, 64)
    long = RotaryEmbedding(cfg, 64)
    x = torch.zeros(1)
    cs, ss = short(x, positions(100))
    cl, sl = long(x, positions(400))
    if cfg.is_dynamic:  # the frequencies depend on the current length, by design
        assert not torch.equal(cs, cl[:, :100])
        return
    assert torch.equal(cs, cl[:, :100]) and torch.equal(ss, sl[:, :100])


@pytest.mark.parametrize("d", [16, 64, 128])
def test_vectorised_table_equals_loop(d):
    """The module's table against Resonance RoPE built pair by pair, position by position:
    lambda~ = round(2 pi / theta), theta~ = 2 pi / lambda~, angle (t mod lambda~) * theta~."""
    rot = RotaryEmbedding(RopeConfig(d, rope_type="resonance"), 300)
    theta, lam = naive_resonance_round([1e4 ** (-2 * j / d) for j in range(d // 2)])
    angles = naive_rotary_angles(list(range(300)), theta, lam)
    cos_ref = [[math.cos(a) for a in row] for row in angles]
    sin_ref = [[math.sin(a) for a in row] for row in angles]
    cos, sin = rot.table(300)
    half = d // 2
    torch.testing.assert_close(cos[:, :half], torch.tensor(cos_ref), rtol=0, atol=1e-7)
    torch.testing.assert_close(sin[:, half:], torch.tensor(sin_ref), rtol=0, atol=1e-7)


def test_attention_factor_multiplies_cos_and_sin():
    cfg = RopeConfig(64, rope_type="yarn", factor=4.0, original_max_position_embeddings=64)
    rot = RotaryEmbedding(cfg, 128)
    cos, sin = rot.table(128)
    assert torch.allclose(cos**2 + sin**2, torch.full_like(cos, rot.attention_scaling**2))


def test_interleaved_equals_half_after_permutation():
    torch.manual_seed(0)
    d = 32
    q, k = torch.randn(2, 3, 10, d), torch.randn(2, 1, 10, d)
    pos = torch.arange(10).expand(2, 10)
    half = RotaryEmbedding(RopeConfig(d, rope_type="resonance"), 16)
    inter = RotaryEmbedding(RopeConfig(d, rope_type="resonance", layout="interleaved"), 16)
    perm = torch.stack(
        [torch.arange(d // 2), torch.arange(d // 2) + d // 2], dim=1
    ).flatten()  # 0, 16, 1, 17, ..
    qh, kh = apply_rotary(q, k, *half(q, pos), layout="half")
    qi, ki = apply_rotary(q[..., perm], k[..., perm], *inter(q, pos), layout="interleaved")
    torch.testing.assert_close(qi, qh[..., perm])
    torch.testing.assert_close(ki, kh[..., perm])


def test_partial_rotary_leaves_tail_untouched():
    cfg = RopeConfig(32, rope_type="resonance", partial_rotary_factor=0.5)
    rot = RotaryEmbedding(cfg, 16)
    q = torch.randn(1, 2, 8, 32)
    cos, sin = rot(q, torch.arange(8)[None])
    assert cos.shape == (1, 8, 16)
    qr, _ = apply_rotary(q, q, cos, sin)
    assert torch.equal(qr[..., 16:], q[..., 16:])
    assert not torch.equal(qr[..., :16], q[..., :16])


def test_rotation_preserves_relative_position():
    """q_m . k_n depends only on m - n (RoPE's defining property), for resonance too."""
    torch.manual_seed(0)
    rot = RotaryEmbedding(RopeConfig(16, rope_type="resonance"), 64)
    q, k = (
        torch.randn(1, 1, 1, 16).expand(1, 1, 64, 16),
        torch.randn(1, 1, 1, 16).expand(1, 1, 64, 16),
    )
    qr, kr = apply_rotary(q, k, *rot(q, torch.arange(64)[None]))
    a = (qr[0, 0, 10] * kr[0, 0, 3]).sum()
    b = (qr[0, 0, 40] * kr[0, 0, 33]).sum()
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_table_grows_on_demand():
    rot = RotaryEmbedding(RopeConfig(16), 8)
    cos, _ = rot(torch.zeros(1), torch.tensor([[0, 20]]))
    assert rot.cached_len >= 21 and cos.shape == (1, 2, 16)


@pytest.mark.parametrize("bad", [torch.tensor([[0, -1]]), torch.tensor([[0.5]])])
def test_bad_positions(bad):
    rot = RotaryEmbedding(RopeConfig(16), 8)
    with pytest.raises(ValueError, match="position_ids"):
        rot(torch.zeros(1), bad)
