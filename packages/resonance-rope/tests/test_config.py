"""The configs: validation (one clear line naming the field), dict/JSON round trips, and
TrainSettings -> papershelf TrainConfig (the one-cycle schedule checked against the old formula)."""

from __future__ import annotations

import math

import pytest
from papershelf.errors import UserError
from papershelf.schedules import lr_factor
from resonance_rope import ROPE_TYPES, RopeConfig
from resonance_rope.config import DecoderConfig, PosGenConfig, TrainSettings


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


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"modulus": 1}, "modulus"),
        ({"train_len": 4}, "train_len"),
        ({"test_len": 64}, "test_len"),
        ({"rule": "nope"}, "rule"),
        ({"split": "random"}, "split"),
        ({"n_train": 90000}, "83521"),
    ],
)
def test_bad_posgen_config(kwargs, field):
    args = {"rule": "cot", **kwargs}
    with pytest.raises(UserError, match=field):
        PosGenConfig(**args)


def test_paper_config():
    cfg = DecoderConfig.paper()
    assert (cfg.d_model, cfg.d_ff, cfg.n_heads, cfg.head_dim, cfg.n_layers, cfg.dropout) == (
        512,
        2048,
        8,
        64,
        2,
        0.1,
    )


@pytest.mark.parametrize(
    "cfg",
    [
        RopeConfig(64, rope_type="resonance_yarn", factor=4.0, original_max_position_embeddings=64),
        PosGenConfig("semi_recursive", n_train=20, n_val=0, n_test=5, split="official"),
        DecoderConfig.paper(),
        TrainSettings(epochs=3, batch_size=16, pct_start=0.3),
    ],
)
def test_dict_and_json_round_trip(cfg, tmp_path):
    assert type(cfg).from_dict(cfg.to_dict()) == cfg
    assert type(cfg).from_json(cfg.to_json(tmp_path / "cfg.json")) == cfg
    with pytest.raises(UserError, match=r"unknown field.*known fields") as info:
        type(cfg).from_dict({**cfg.to_dict(), "typo": 1})
    assert "\n" not in str(info.value)


def test_rope_replace_resets_resonance_with_a_new_type():
    res_yarn = RopeConfig(
        64, rope_type="resonance_yarn", factor=4.0, original_max_position_embeddings=64
    )
    assert res_yarn.replace(factor=2.0).type_name == "resonance_yarn"
    assert res_yarn.replace(rope_type="yarn").type_name == "yarn"
    assert RopeConfig(64).replace(resonance=True).type_name == "resonance"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"pct_start": 1.5}, "pct_start"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"eval_batch_size": 0}, "eval_batch_size"),
    ],
)
def test_bad_train_settings(kwargs, field):
    with pytest.raises(UserError, match=field) as info:
        TrainSettings(**kwargs)
    assert "\n" not in str(info.value)


def old_one_cycle(total: int, pct_start: float, div: float = 25.0, final_div: float = 1e4):
    """The package's own one-cycle factor before it moved to papershelf.schedules (verbatim)."""
    warm = max(1, round(pct_start * total))

    def factor(step: int) -> float:
        if step < warm:
            w = step / warm
            return 1 / div + (1 - 1 / div) * (1 - math.cos(math.pi * w)) / 2
        w = min(1.0, (step - warm) / max(1, total - warm))
        low = 1 / (div * final_div)
        return low + (1 - low) * (1 + math.cos(math.pi * w)) / 2

    return factor


@pytest.mark.parametrize("total", [1, 3, 9, 100, 256, 248, 4680])
@pytest.mark.parametrize("pct_start", [0.0, 0.1, 0.3, 1.0])
def test_train_config_one_cycle_equals_the_old_formula(total, pct_start):
    """TrainSettings.train_config's schedule is the old one_cycle: same peak step, same factors
    (the decay bit for bit; the rise to within an ulp: pi * (s / w) vs (pi * s) / w)."""
    config = TrainSettings(pct_start=pct_start).train_config(total)
    assert (config.schedule, config.max_steps) == ("one_cycle", total)
    old = old_one_cycle(total, pct_start)
    peak = max(1, config.warmup_steps)
    for step in range(total + 2):
        new = lr_factor(config.schedule, step, config.warmup_steps, total)
        if step >= peak:
            assert new == old(step)
        else:
            assert new == pytest.approx(old(step), rel=2e-15, abs=0)


def test_train_config_maps_every_setting():
    settings = TrainSettings(epochs=8, batch_size=64, lr=1e-3, weight_decay=1e-2, seed=3)
    steps = settings.total_steps(2000)
    assert steps == 8 * 32  # ceil(2000 / 64) steps per epoch: the quick claims' 256 steps
    config = settings.train_config(steps, progress=True)
    assert (config.max_steps, config.lr, config.batch_size, config.weight_decay) == (
        256,
        1e-3,
        64,
        1e-2,
    )
    assert (config.optimizer, config.schedule, config.warmup_steps, config.seed) == (
        "adamw",
        "one_cycle",
        26,
        3,
    )
    assert config.progress and config.max_grad_norm is None
