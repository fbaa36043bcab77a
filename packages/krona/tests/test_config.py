"""KronAConfig validation, the factor-shape rule and the JSON round trip."""

from __future__ import annotations

import json
import math

import pytest
from krona.config import KronAConfig, parse_shapes
from krona.errors import KronAError
from papershelf.config import Config
from papershelf.errors import UserError


def test_defaults_and_aliases():
    cfg = KronAConfig()
    assert (
        cfg.variant == "linear"
        and cfg.target_modules == ["query", "value"]
        and cfg.init == "zero_A"
    )
    assert KronAConfig(variant="krona_b").variant == "block"
    assert KronAConfig(variant="krona_b_res").variant == "block_res"
    assert KronAConfig(variant="krona").variant == "linear"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"variant": "kron"}, "variant"),
        ({"init": "gauss"}, "init"),
        ({"matmul_order": "C_first"}, "matmul_order"),
        ({"scale": 0.0}, "scale"),
        ({"scale": math.inf}, "scale"),
        ({"scale": math.nan}, "scale"),
        ({"res_scale": math.nan}, "res_scale"),
        ({"factor": 0}, "factor"),
        ({"dropout": 1.0}, "dropout"),
        ({"res_scale_trainable": True}, "res_scale_trainable"),
        ({"shapes": {"query": {"A": (2, 2)}}}, "shapes"),
        ({"shapes": "A=2x,B=3x3"}, "shapes"),
        ({"target_modules": []}, "target_modules"),
        ({"ffn_taps": ["intermediate"]}, "ffn_taps"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(kwargs, field):
    with pytest.raises(KronAError, match=field) as info:
        KronAConfig(**kwargs)
    assert "\n" not in str(info.value)


def test_auto_shapes_follow_the_rule():
    cfg = KronAConfig()
    assert cfg.shapes_for("q", 384, 384) == ((16, 16), (24, 24))
    assert cfg.shapes_for("up", 3072, 768) == ((48, 24), (64, 32))
    assert cfg.shapes_for("x", 768, 768) == ((24, 24), (32, 32))
    assert KronAConfig(factor=8).shapes_for("q", 768, 384) == ((8, 8), (96, 48))


def test_auto_refuses_prime_and_non_dividing_factor():
    with pytest.raises(KronAError, match="'auto' cannot split q's d_out = 97"):
        KronAConfig().shapes_for("q", 97, 64)
    with pytest.raises(KronAError, match="factor: 7 does not divide q's d_out = 384"):
        KronAConfig(factor=7).shapes_for("q", 384, 384)


def test_explicit_shapes_must_multiply_to_the_layer():
    cfg = KronAConfig(shapes={"query": {"A": (16, 16), "B": (24, 24)}})
    assert cfg.shapes_for("layer.0.query", 384, 384) == ((16, 16), (24, 24))
    assert cfg.shapes_for("layer.0.value", 64, 64) == ((8, 8), (8, 8))  # falls back to auto
    with pytest.raises(
        KronAError, match=r"layer.0.query has \(d_out, d_in\) = \(768, 384\).*pairs .*24x32"
    ):
        cfg.shapes_for("layer.0.query", 768, 384)


def test_parse_shapes_cli_form():
    assert parse_shapes("auto") == "auto"
    assert parse_shapes("A=16x16,B=24x24") == {"*": {"A": (16, 16), "B": (24, 24)}}
    assert KronAConfig(shapes="A=2x4,B=3x5").shapes_for("anything", 6, 20) == ((2, 4), (3, 5))


def test_json_round_trip():
    cfg = KronAConfig(
        variant="block_res",
        scale=4.0,
        res_scale=0.5,
        res_scale_trainable=True,
        shapes={"ffn": {"A": (8, 8), "B": (48, 48)}},
        modules_to_save=["classifier"],
        ffn_taps=[("intermediate", "output.dense")],
    )
    text = json.dumps(cfg.to_dict())
    back = KronAConfig.from_dict(json.loads(text))
    assert back == cfg
    assert "adapter_type" not in cfg.to_dict() and cfg.adapter_type == "krona"
    assert KronAConfig.from_dict({**cfg.to_dict(), "adapter_type": "krona"}) == cfg  # 0.1.0's dict
    with pytest.raises(
        UserError, match=r"KronAConfig: unknown field.* rank; known fields: variant"
    ):
        KronAConfig.from_dict({**cfg.to_dict(), "rank": 4})


def test_on_the_papershelf_config_base(tmp_path):
    cfg = KronAConfig(variant="krona_b", scale=2.0)
    assert isinstance(cfg, Config)
    assert KronAConfig.from_json(cfg.to_json(tmp_path / "c.json")) == cfg
    assert cfg.replace(scale=3.0).scale == 3.0
    with pytest.raises(KronAError, match="scale: must be non-zero"):
        cfg.replace(scale=0)
