"""Config validation: one-line errors naming the field; placements."""

import pytest
from integral_transformer.config import (
    IntegralConfig,
    LMConfig,
    NoisyRecallConfig,
    ZooConfig,
    select_layers,
)
from papershelf.errors import UserError


def test_placements():
    assert select_layers("top_half", 20) == tuple(range(10, 20))
    assert select_layers("top_half", 22) == tuple(range(11, 22))
    assert select_layers("bottom_half", 22) == tuple(range(11))
    assert select_layers("all", 4) == (0, 1, 2, 3)
    assert select_layers("top_quarter", 20) == tuple(range(15, 20))
    assert select_layers([3, 1], 4) == (1, 3)
    with pytest.raises(UserError, match="layers: must be one of"):
        select_layers("middle", 4)
    with pytest.raises(UserError, match=r"0\.\.3"):
        select_layers([4], 4)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"num_signals": 0}, "num_signals: must be an integer >= 1"),
        (
            {"num_signals": 3},
            r"num_signals: must divide head_dim 32 \(divisors: 1, 2, 4, 8, 16, 32\)",
        ),
        ({"num_signals": 32}, "even"),
        ({"placement": "sideways"}, "layers: must be one of"),
        ({"attention": "linear"}, "attention: must be one of"),
        ({"attention": "diff", "num_heads": 1}, "num_heads: Diff"),
        ({"rope_mode": "none"}, "rope_mode"),
    ],
)
def test_lm_config_refuses(changes, match):
    with pytest.raises(UserError, match=match):
        LMConfig(**changes)


def test_integral_config_and_presets():
    cfg = IntegralConfig(num_signals=8, layers=[1, 2])
    assert cfg.layers == (1, 2)
    assert IntegralConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(UserError, match="num_signals"):
        IntegralConfig(num_signals=-1)
    with pytest.raises(UserError, match="unknown field"):
        IntegralConfig.from_dict({"signals": 2})
    big = LMConfig.paper_125m(attention="integral")
    assert big.head_dim == 96 and big.layer_kinds()[9:11] == ("vanilla", "integral")
    assert LMConfig.paper_1_2b().head_dim // 8 == 8
    assert LMConfig(attention="cog", cog_keep_ends=True, placement="all").layer_kinds() == (
        "vanilla",
        "cog",
        "cog",
        "vanilla",
    )


def test_task_and_zoo_configs():
    with pytest.raises(UserError, match="seq_len: must be >="):
        NoisyRecallConfig(seq_len=20)
    with pytest.raises(UserError, match="num_pairs"):
        NoisyRecallConfig(num_pairs=40)
    with pytest.raises(UserError, match="models"):
        ZooConfig(models=("gpt",))
    assert ZooConfig.full().num_seeds == 3
