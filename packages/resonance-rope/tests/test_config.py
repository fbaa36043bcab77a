"""RopeConfig validation: one clear line naming the field."""

from __future__ import annotations

import pytest
from papershelf.errors import UserError
from resonance_rope import ROPE_TYPES, RopeConfig


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"head_dim": 63}, "head_dim"),
        ({"head_dim": 64, "base": 1.0}, "base"),
        ({"head_dim": 64, "factor": 0.5}, "factor"),
        ({"head_dim": 64, "rope_type": "rotary"}, "rope_type"),
        ({"head_dim": 64, "rope_type": "yarn", "factor": 2.0}, "original_max_position_embeddings"),
        (
            {"head_dim": 64, "rope_type": "resonance_yarn", "factor": 2.0},
            "original_max_position_embeddings",
        ),
        (
            {
                "head_dim": 64,
                "original_max_position_embeddings": 8192,
                "max_position_embeddings": 4096,
            },
            "original_max_position_embeddings",
        ),
        ({"head_dim": 64, "beta_fast": 1.0, "beta_slow": 2.0}, "beta_fast"),
        ({"head_dim": 64, "partial_rotary_factor": 1.5}, "partial_rotary_factor"),
        ({"head_dim": 64, "partial_rotary_factor": 0.3}, "partial_rotary_factor"),
        ({"head_dim": 64, "rope_type": "dynamic", "factor": 2.0}, "max_position_embeddings"),
        ({"head_dim": 64, "layout": "zigzag"}, "layout"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(UserError, match=field) as info:
        RopeConfig(**kwargs)
    assert "\n" not in str(info.value)


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(UserError) as info:
        RopeConfig(64, rope_type="foo")
    assert all(t in str(info.value) for t in ROPE_TYPES)


def test_mismatched_lengths_warn():
    with pytest.warns(UserWarning, match="differs"):
        RopeConfig(
            64,
            rope_type="yarn",
            factor=4.0,
            original_max_position_embeddings=64,
            max_position_embeddings=512,
        )


@pytest.mark.parametrize("name", ROPE_TYPES)
def test_type_names_round_trip(name):
    cfg = RopeConfig(
        64,
        rope_type=name,
        factor=2.0,
        original_max_position_embeddings=64,
        max_position_embeddings=128,
    )
    assert cfg.type_name == name
    assert cfg.resonance == name.startswith("resonance")
    params = cfg.to_rope_parameters()
    assert params["rope_type"] == name


def test_from_hf_reads_rope_parameters():
    from transformers import LlamaConfig

    hf = LlamaConfig(
        hidden_size=64,
        num_attention_heads=2,
        head_dim=32,
        max_position_embeddings=256,
        rope_parameters={
            "rope_type": "yarn",
            "factor": 4.0,
            "original_max_position_embeddings": 64,
            "rope_theta": 5e5,
            "beta_fast": 16.0,
        },
    )
    cfg = RopeConfig.from_hf(hf)
    assert (cfg.head_dim, cfg.base, cfg.rope_type, cfg.factor, cfg.beta_fast) == (
        32,
        5e5,
        "yarn",
        4.0,
        16.0,
    )
    assert cfg.original_max_position_embeddings == 64 and not cfg.resonance
