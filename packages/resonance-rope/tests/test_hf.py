"""Hugging Face integration: registry, a tiny Llama with resonance_yarn, exact rotary, round trip;
the HF path against the exact rotary for Llama, Qwen2 and GPT-NeoX, static and dynamic types,
at T <= and > the original length."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import transformers
from resonance_rope import (
    RotaryEmbedding,
    register_hf_rope_types,
    use_exact_rotary,
)
from resonance_rope.hf import REGISTERED_TYPES, load_pretrained, patch_rope
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

RES_YARN = {
    "rope_type": "resonance_yarn",
    "factor": 4.0,
    "original_max_position_embeddings": 64,
    "rope_theta": 1e4,
}


def tiny_llama(rope_parameters: dict, max_len: int = 256) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=32,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=32,
        max_position_embeddings=max_len,
        rope_parameters=dict(rope_parameters),
    )
    return LlamaForCausalLM(config).eval()


def test_register_adds_types_and_is_idempotent():
    names = register_hf_rope_types()
    assert {"resonance", "resonance_yarn", "ntk", "dynamic_yarn"} <= set(names)
    first = {n: ROPE_INIT_FUNCTIONS[n] for n in REGISTERED_TYPES}
    register_hf_rope_types()
    assert all(ROPE_INIT_FUNCTIONS[n] is f for n, f in first.items())
    assert all("dynamic" in n for n in REGISTERED_TYPES if n.endswith(("dynamic", "dynamic_yarn")))


def test_register_refuses_to_overwrite_foreign_function():
    register_hf_rope_types()
    saved = ROPE_INIT_FUNCTIONS["resonance"]
    ROPE_INIT_FUNCTIONS["resonance"] = lambda *a, **k: None
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_hf_rope_types()
    finally:
        ROPE_INIT_FUNCTIONS["resonance"] = saved


def explicit_resonance_round(inv_freq: torch.Tensor) -> torch.Tensor:
    """Algorithm 1 written out: theta~ = 2 pi / round(2 pi / theta), in float64."""
    lam = 2 * math.pi / inv_freq.double()
    return 2 * math.pi / torch.round(lam)


def test_tiny_llama_resonance_yarn_is_transformers_yarn_rounded():
    """Oracle: transformers' own yarn init function, then Algorithm 1 by hand; the module's
    cos/sin against the explicit formula cos(t theta~) x attention factor."""
    model = tiny_llama(RES_YARN)
    rot = model.model.rotary_emb
    yarn_cfg = LlamaConfig(
        hidden_size=64,
        num_attention_heads=2,
        head_dim=32,
        max_position_embeddings=256,
        rope_parameters={**RES_YARN, "rope_type": "yarn"},
    )
    yarn_inv, yarn_factor = ROPE_INIT_FUNCTIONS["yarn"](yarn_cfg, "cpu")
    expected = explicit_resonance_round(yarn_inv)
    torch.testing.assert_close(rot.inv_freq.double(), expected, rtol=1e-6, atol=0)
    assert rot.attention_scaling == pytest.approx(yarn_factor, rel=1e-12)
    assert not torch.allclose(rot.inv_freq, yarn_inv)  # the rounding did something
    t = torch.arange(200)
    with torch.no_grad():
        cos, sin = rot(torch.zeros(1), t[None])
    angle = t[:, None].double() * expected[None, :]
    torch.testing.assert_close(
        cos[0, :, :16].double(), torch.cos(angle) * yarn_factor, atol=2e-4, rtol=0
    )
    torch.testing.assert_close(
        sin[0, :, 16:].double(), torch.sin(angle) * yarn_factor, atol=2e-4, rtol=0
    )


@pytest.mark.parametrize("length", [64, 256, 1024])
def test_hf_path_equals_our_rotary_plugged_by_hand(length):
    register_hf_rope_types()
    model = tiny_llama(RES_YARN, max_len=length)
    tokens = torch.randint(0, 32, (2, length), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        hf_logits = model(tokens).logits
        use_exact_rotary(model)
        assert isinstance(model.model.rotary_emb, RotaryEmbedding)
        ours = model(tokens).logits
    torch.testing.assert_close(ours, hf_logits, rtol=0, atol=1e-5)


def test_use_exact_rotary_refuses_unknown_family():
    from transformers import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(
        GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=10, n_positions=8)
    )
    with pytest.raises(ValueError, match="model_type"):
        use_exact_rotary(model)


def test_patch_rope_rebuilds_frequencies():
    register_hf_rope_types()
    model = tiny_llama({"rope_type": "default", "rope_theta": 1e4})
    patch_rope(model, rope_type="resonance_yarn", factor=4.0, original_max_position_embeddings=64)
    target = tiny_llama(RES_YARN)
    assert torch.equal(model.model.rotary_emb.inv_freq, target.model.rotary_emb.inv_freq)
    tokens = torch.randint(0, 32, (1, 100))
    with torch.no_grad():
        torch.testing.assert_close(model(tokens).logits, target(tokens).logits)


def test_save_reload_round_trip(tmp_path):
    register_hf_rope_types()
    model = tiny_llama(RES_YARN)
    model.save_pretrained(tmp_path)
    reloaded = load_pretrained(tmp_path).eval()
    tokens = torch.randint(0, 32, (1, 80))
    with torch.no_grad():
        torch.testing.assert_close(reloaded(tokens).logits, model(tokens).logits, rtol=0, atol=0)
    assert reloaded.config.rope_parameters["rope_type"] == "resonance_yarn"


def test_plain_from_pretrained_without_registration_fails(tmp_path):
    """Pins the README warning: a saved resonance model needs register_hf_rope_types() first."""
    from transformers import AutoModelForCausalLM

    register_hf_rope_types()
    tiny_llama(RES_YARN).save_pretrained(tmp_path)
    saved = {n: ROPE_INIT_FUNCTIONS.pop(n) for n in REGISTERED_TYPES}
    try:
        with pytest.raises(KeyError, match="resonance_yarn"):
            AutoModelForCausalLM.from_pretrained(tmp_path)
    finally:
        ROPE_INIT_FUNCTIONS.update(saved)


def test_load_pretrained_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        load_pretrained(tmp_path / "nope")


def test_hf_config_without_original_length_is_refused():
    register_hf_rope_types()
    with pytest.raises(Exception, match="original_max_position_embeddings"):
        tiny_llama({"rope_type": "resonance_yarn", "factor": 4.0, "rope_theta": 1e4})


def test_hf_dynamic_update_recomputes_resonance_dynamic():
    """Oracle: transformers' own dynamic init function at the new length, rounded by hand."""
    model = tiny_llama(
        {"rope_type": "resonance_dynamic", "factor": 2.0, "rope_theta": 1e4}, max_len=64
    )
    before = model.model.rotary_emb.inv_freq.clone()
    with torch.no_grad():
        model(torch.randint(0, 32, (1, 150)))
    plain = tiny_llama({"rope_type": "dynamic", "factor": 2.0, "rope_theta": 1e4}, max_len=64)
    hf_inv, _ = ROPE_INIT_FUNCTIONS["dynamic"](plain.config, "cpu", seq_len=150)
    after = model.model.rotary_emb.inv_freq
    torch.testing.assert_close(after.double(), explicit_resonance_round(hf_inv), rtol=1e-6, atol=0)
    default_inv = 1.0 / 1e4 ** (torch.arange(0, 32, 2).double() / 32)
    torch.testing.assert_close(
        before.double(), explicit_resonance_round(default_inv), rtol=1e-6, atol=0
    )
    assert not torch.allclose(after, before)


def test_hf_ntk_type():
    """Oracle: NTK-aware scaling written out, b' = b s^(d / (d - 2)), theta_j = b'^(-2j/d)."""
    model = tiny_llama({"rope_type": "ntk", "factor": 4.0, "rope_theta": 1e4})
    base = 1e4 * 4.0 ** (32 / 30)
    expected = 1.0 / base ** (torch.arange(0, 32, 2).double() / 32)
    torch.testing.assert_close(
        model.model.rotary_emb.inv_freq.double(), expected, rtol=1e-6, atol=0
    )
    assert model.model.rotary_emb.attention_scaling == 1.0


ORIG = 64


def _model(family: str, rope_type: str):
    params = {"rope_type": rope_type, "factor": 4.0, "rope_theta": 1e4}
    params["original_max_position_embeddings"] = ORIG
    common = dict(
        vocab_size=32,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=ORIG,  # dynamic types: the table reused up to here has s = 1
    )
    torch.manual_seed(0)
    if family == "llama":
        cfg = transformers.LlamaConfig(num_key_value_heads=2, rope_parameters=params, **common)
        return transformers.LlamaForCausalLM(cfg).eval()
    if family == "qwen2":
        cfg = transformers.Qwen2Config(num_key_value_heads=2, rope_parameters=params, **common)
        return transformers.Qwen2ForCausalLM(cfg).eval()
    params["partial_rotary_factor"] = 0.5
    cfg = transformers.GPTNeoXConfig(rope_parameters=params, **common)
    return transformers.GPTNeoXForCausalLM(cfg).eval()


@pytest.mark.parametrize("family", ["llama", "qwen2", "gpt_neox"])
@pytest.mark.parametrize("rope_type", ["resonance_yarn", "dynamic_yarn", "resonance_dynamic_yarn"])
def test_hf_path_equals_the_exact_rotary(family, rope_type):
    hf = _model(family, rope_type)
    exact = use_exact_rotary(copy.deepcopy(hf))
    rotary = [m for m in exact.modules() if isinstance(m, RotaryEmbedding)]
    assert len(rotary) == 1
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for length in (ORIG // 2, ORIG, 3 * ORIG):  # T <= and > the original length
            tokens = torch.randint(0, 32, (1, length), generator=g)
            torch.testing.assert_close(hf(tokens).logits, exact(tokens).logits, rtol=0, atol=2e-5)


def test_dynamic_yarn_short_input_is_plain_rope_through_transformers():
    """The issue's case: with seq_len=None the HF table must be plain RoPE (factor 1)."""
    dyn = _model("llama", "dynamic_yarn")
    plain = _model("llama", "default")  # same weights (same seed)
    rot = dyn.model.rotary_emb
    assert rot.attention_scaling == 1.0  # was 1.1386 (full-factor YaRN) before the fix
    torch.testing.assert_close(rot.inv_freq, plain.model.rotary_emb.inv_freq, rtol=1e-6, atol=0)
    tokens = torch.randint(0, 32, (1, ORIG), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(dyn(tokens).logits, plain(tokens).logits, rtol=0, atol=1e-5)


@pytest.mark.parametrize("rope_type", ["default", "resonance"])
def test_float32_feature_gap_equals_brute_force_on_transformers_features(rope_type):
    """The feature-gap claim's float32 measurement: transformers' own rotary features, eq. 8
    by brute force over every (test, train) position pair as the oracle."""
    from resonance_rope.freqs import feature_gap_from_cos_sin
    from resonance_rope.hf import hf_rotary_features

    cos, sin = hf_rotary_features({"rope_type": rope_type}, 16, 48)
    assert cos.dtype == torch.float32 and cos.shape == (48, 8)
    gap = feature_gap_from_cos_sin(cos, sin, 16)
    v = torch.stack([cos, sin], -1).double()
    v = v / v.norm(dim=-1, keepdim=True)  # (T, P, 2) unit features
    brute = (v[16:, None] - v[None, :16]).norm(dim=-1).amin(1).amax(0)
    torch.testing.assert_close(gap, brute, rtol=0, atol=1e-9)
    lam = 2 * math.pi * 1e4 ** (torch.arange(0, 16, 2).double() / 16)
    pre = (torch.round(lam) if rope_type == "resonance" else lam) <= 16
    if rope_type == "resonance":  # float32 t * theta~ is periodic to rounding at t < 48
        assert float(gap[pre].max()) < 1e-5
    else:
        assert float(gap[pre].min()) > 1e-3
