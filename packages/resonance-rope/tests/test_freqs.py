"""Frequencies against transformers' ROPE_INIT_FUNCTIONS (the oracle) and the paper's rules."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from papershelf.errors import UserError
from resonance_rope import RopeConfig, compute_inv_freq
from resonance_rope.freqs import (
    compute_rope,
    critical_pair,
    default_inv_freq,
    feature_gap,
    resonance_round,
    rotary_angles,
    wavelengths,
    yarn_correction_range,
)
from resonance_rope.naive import naive_feature_gap, naive_resonance_round, naive_rotary_angles
from transformers import LlamaConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding


def hf_config(head_dim: int, base: float, max_len: int, rope_parameters: dict) -> LlamaConfig:
    return LlamaConfig(
        hidden_size=head_dim * 2,
        num_attention_heads=2,
        head_dim=head_dim,
        max_position_embeddings=max_len,
        rope_parameters={"rope_theta": base, **rope_parameters},
    )


YARN_SHAPES = [(128, 1e4, 4096, s) for s in (2, 4, 8, 16)] + [
    (128, 1e6, 32768, 4),
    (64, 1e4, 64, 4),
]
MSCALES = [
    {},
    {"mscale": 1.0, "mscale_all_dim": 1.0},
    {"mscale": 0.707, "mscale_all_dim": 1.0},
    {"attention_factor": 0.9},
]


@pytest.mark.parametrize(
    ("shape", "truncate", "extra"), list(itertools.product(YARN_SHAPES, (True, False), MSCALES))
)
def test_yarn_matches_transformers(shape, truncate, extra):
    d, base, orig, s = shape
    params = {
        "rope_type": "yarn",
        "factor": float(s),
        "original_max_position_embeddings": orig,
        "truncate": truncate,
        **extra,
    }
    hf_inv, hf_factor = ROPE_INIT_FUNCTIONS["yarn"](hf_config(d, base, int(orig * s), params))
    cfg = RopeConfig(
        head_dim=d,
        base=base,
        rope_type="yarn",
        factor=float(s),
        original_max_position_embeddings=orig,
        max_position_embeddings=int(orig * s),
        truncate=truncate,
        **extra,
    )
    inv, factor = compute_inv_freq(cfg)
    assert inv.dtype == torch.float32
    torch.testing.assert_close(inv, hf_inv, rtol=1e-6, atol=0)
    assert factor == pytest.approx(hf_factor, rel=1e-12)


def test_yarn_spot_values():
    assert yarn_correction_range(128, 1e4, 4096, 32, 1) == (20, 46)
    assert yarn_correction_range(128, 1e6, 32768, 32, 1) == (23, 40)
    assert yarn_correction_range(64, 1e4, 64, 32, 1) == (0, 9)
    _, factor = compute_inv_freq(
        RopeConfig(128, rope_type="yarn", factor=8.0, original_max_position_embeddings=4096)
    )
    assert factor == pytest.approx(1.20794, abs=1e-5)
    assert factor**2 == pytest.approx(1.4591, abs=1e-4)
    _, factor = compute_inv_freq(
        RopeConfig(128, 1e6, "yarn", factor=4.0, original_max_position_embeddings=32768)
    )
    assert factor == pytest.approx(1.13863, abs=1e-5)


def test_official_posgen_yarn_preset():
    """The official code's eval-time YaRN: s = 257/65, correction from 257, beta 2/1 -> pairs 10..13."""
    assert yarn_correction_range(64, 1e4, 257, 2, 1) == (10, 13)
    cfg = RopeConfig(
        64, rope_type="yarn", factor=257 / 65, original_max_position_embeddings=257, beta_fast=2
    )
    assert compute_inv_freq(cfg)[1] == pytest.approx(1.13747, abs=1e-5)


@pytest.mark.parametrize("factor", [2.0, 4.0, 8.0])
def test_linear_matches_transformers(factor):
    params = {"rope_type": "linear", "factor": factor}
    hf_inv, hf_factor = ROPE_INIT_FUNCTIONS["linear"](hf_config(64, 1e4, 2048, params))
    inv, att = compute_inv_freq(RopeConfig(64, rope_type="linear", factor=factor))
    torch.testing.assert_close(inv, hf_inv, rtol=1e-6, atol=0)
    assert att == hf_factor == 1.0


@pytest.mark.parametrize(("factor", "mult"), list(itertools.product([2.0, 4.0], [1, 2, 5])))
def test_dynamic_matches_transformers(factor, mult):
    length = 512
    params = {"rope_type": "dynamic", "factor": factor}
    seq_len = length * mult
    hf_inv, _ = ROPE_INIT_FUNCTIONS["dynamic"](hf_config(64, 1e4, length, params), seq_len=seq_len)
    cfg = RopeConfig(64, rope_type="dynamic", factor=factor, max_position_embeddings=length)
    inv, _ = compute_inv_freq(cfg, seq_len=seq_len)
    torch.testing.assert_close(inv, hf_inv, rtol=1e-6, atol=0)


@pytest.mark.parametrize(("d", "base"), [(64, 1e4), (128, 1e4), (128, 5e5)])
def test_default_matches_transformers(d, base):
    hf_inv, _ = LlamaRotaryEmbedding.compute_default_rope_parameters(
        hf_config(d, base, 2048, {"rope_type": "default"})
    )
    inv, att = compute_inv_freq(RopeConfig(d, base))
    torch.testing.assert_close(inv, hf_inv, rtol=1e-6, atol=0)
    assert att == 1.0


@pytest.mark.parametrize("rope_type", ["linear", "ntk", "yarn"])
def test_factor_one_is_default(rope_type):
    cfg = RopeConfig(128, rope_type=rope_type, factor=1.0, original_max_position_embeddings=4096)
    inv, att = compute_inv_freq(cfg)
    ref, _ = compute_inv_freq(RopeConfig(128))
    assert torch.equal(inv, ref)
    assert att == 1.0


def test_ntk_standard_form():
    d, s = 64, 8.0
    inv, att = compute_inv_freq(RopeConfig(d, rope_type="ntk", factor=s))
    expected = [(1e4 * s ** (d / (d - 2))) ** (-2 * j / d) for j in range(d // 2)]
    torch.testing.assert_close(inv, torch.tensor(expected, dtype=torch.float32), rtol=1e-6, atol=0)
    assert att == 1.0


def test_yarn_paper_ramp_endpoints():
    """Paper form: gamma = 1 where lambda < L/beta, 0 where lambda > L/alpha."""
    cfg = RopeConfig(
        64, rope_type="yarn", factor=4.0, original_max_position_embeddings=64, ramp="paper"
    )
    theta = default_inv_freq(64, 1e4)
    lam = wavelengths(theta)
    inv = compute_rope(cfg).inv_freq
    assert torch.allclose(inv[lam < 64 / 32], theta[lam < 64 / 32])
    assert torch.allclose(inv[lam > 64], theta[lam > 64] / 4)


@settings(max_examples=40, deadline=None)
@given(
    d=st.sampled_from([16, 32, 64, 128]),
    base=st.floats(100, 1e6),
    factor=st.floats(1, 32),
    rope_type=st.sampled_from(["default", "linear", "ntk", "yarn"]),
)
def test_resonance_wavelengths_are_integers(d, base, factor, rope_type):
    cfg = RopeConfig(d, base, rope_type, factor=factor, original_max_position_embeddings=256)
    plain = compute_rope(cfg)
    res = compute_rope(cfg.replace(resonance=True))
    lam, lam_t = wavelengths(plain.inv_freq), res.int_wavelength.to(torch.float64)
    assert torch.all(res.int_wavelength > 0)
    assert torch.all((lam_t - lam).abs() <= 0.5)
    torch.testing.assert_close(res.inv_freq, 2 * math.pi / lam_t, rtol=0, atol=0)
    assert torch.all(((lam_t - lam) / lam).abs() <= 0.5 / lam.min() + 1e-12)
    assert res.attention_factor == plain.attention_factor


def test_resonance_yarn_rounds_after_scaling():
    yarn = RopeConfig(128, rope_type="yarn", factor=8.0, original_max_position_embeddings=4096)
    res = compute_rope(
        RopeConfig(
            128, rope_type="resonance_yarn", factor=8.0, original_max_position_embeddings=4096
        )
    )
    inv, lam_int = resonance_round(compute_rope(yarn).inv_freq)
    assert torch.equal(res.inv_freq, inv) and torch.equal(res.int_wavelength, lam_int)
    assert res.attention_factor == compute_rope(yarn).attention_factor
    lam = wavelengths(compute_rope(yarn).inv_freq)
    rel = ((res.int_wavelength - lam) / lam).abs().max()
    assert 0.045 < rel < 0.046  # spec: max 4.5 % for LLaMA2-YaRN s=8


def test_pre_critical_scope_rounds_only_short_wavelengths():
    cfg = RopeConfig(
        64,
        rope_type="resonance",
        resonance_scope="pre_critical",
        original_max_position_embeddings=64,
        max_position_embeddings=256,
    )
    res = compute_rope(cfg)
    assert int((res.int_wavelength > 0).sum()) == 9
    assert torch.equal(res.inv_freq[9:], default_inv_freq(64, 1e4)[9:])


def test_pre_critical_scope_needs_the_training_length():
    # max_position_embeddings is the extended length: never used as the training length
    with pytest.raises(UserError, match="'pre_critical' needs original_max_position_embeddings"):
        RopeConfig(
            64, rope_type="resonance", resonance_scope="pre_critical", max_position_embeddings=64
        )


def test_dynamic_yarn_without_seq_len_is_plain_rope():
    """transformers calls the init function with seq_len=None and reuses the table up to
    max_position_embeddings: s = 1 there (plain RoPE, attention factor 1), as its own dynamic."""
    for rope_type in ("dynamic_yarn", "resonance_dynamic_yarn"):
        cfg = RopeConfig(64, rope_type=rope_type, factor=4.0, original_max_position_embeddings=64)
        plain = RopeConfig(64, rope_type="resonance" if "resonance" in rope_type else "default")
        inv, factor = compute_inv_freq(cfg)
        assert factor == 1.0 and torch.equal(inv, compute_inv_freq(plain)[0])
        assert torch.equal(compute_inv_freq(cfg, 64)[0], inv)
        long_inv, long_factor = compute_inv_freq(cfg, 256)
        yarn = cfg.replace(rope_type="yarn", resonance="resonance" in rope_type)
        assert long_factor > 1.0 and torch.equal(long_inv, compute_inv_freq(yarn)[0])


def test_critical_pair_counts():
    assert critical_pair(128, 1e4, 4096) == 46  # LLaMA2
    assert critical_pair(64, 1e4, 64) == 9  # PosGen model
    assert wavelengths(default_inv_freq(64, 1e4))[8].item() == pytest.approx(62.83, abs=0.01)


@settings(max_examples=40, deadline=None)
@given(
    d=st.sampled_from([8, 16, 64, 128]),
    base=st.floats(10, 1e6),
    factor=st.floats(1, 16),
    max_wavelength=st.one_of(st.none(), st.floats(1, 1e5)),
)
def test_resonance_round_equals_naive(d, base, factor, max_wavelength):
    inv_freq = default_inv_freq(d, base) / factor
    fast_inv, fast_lam = resonance_round(inv_freq, max_wavelength)
    slow_inv, slow_lam = naive_resonance_round(inv_freq.tolist(), max_wavelength)
    assert fast_lam.tolist() == slow_lam
    torch.testing.assert_close(
        fast_inv, torch.tensor(slow_inv, dtype=torch.float64), rtol=1e-15, atol=0
    )


@pytest.mark.parametrize("rope_type", ["default", "resonance", "resonance_yarn"])
def test_rotary_angles_equals_naive(rope_type):
    cfg = RopeConfig(32, rope_type=rope_type, factor=4.0, original_max_position_embeddings=64)
    f = compute_rope(cfg)
    positions = [0, 1, 5, 63, 64, 255, 4096, 32767]
    fast = rotary_angles(torch.tensor(positions), f.inv_freq, f.int_wavelength)
    slow = naive_rotary_angles(positions, f.inv_freq.tolist(), f.int_wavelength.tolist())
    torch.testing.assert_close(fast, torch.tensor(slow, dtype=torch.float64), rtol=0, atol=0)


@pytest.mark.parametrize("rope_type", ["default", "resonance", "yarn", "resonance_yarn"])
def test_feature_gap_closed_form_equals_brute_force(rope_type):
    cfg = RopeConfig(16, rope_type=rope_type, factor=2.0, original_max_position_embeddings=24)
    f = compute_rope(cfg)
    fast = feature_gap(f.inv_freq, 24, 80, f.int_wavelength)
    slow = naive_feature_gap(f.inv_freq.tolist(), 24, 80, f.int_wavelength.tolist())
    torch.testing.assert_close(fast, torch.tensor(slow, dtype=torch.float64), rtol=0, atol=1e-9)


def test_feature_gap_theorem_1():
    f = compute_rope(RopeConfig(64, rope_type="resonance"))
    gap = feature_gap(f.inv_freq, 64, 256, f.int_wavelength)
    pre = f.int_wavelength <= 64
    assert int(pre.sum()) == 9 and torch.all(gap[pre] == 0)
    rope_gap = feature_gap(default_inv_freq(64, 1e4), 64, 256)
    assert torch.all(rope_gap[:9] > 1e-6)


def test_feature_gap_rejects_bad_lengths():
    with pytest.raises(ValueError, match="test_len"):
        feature_gap(default_inv_freq(16, 1e4), 64, 64)
