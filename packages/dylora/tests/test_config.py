from __future__ import annotations

import json

import pytest
from dylora import DyLoRAConfig, RunOptions, parse_ranks
from papershelf import UserError
from papershelf.config import Config


def test_defaults_and_round_trip(tmp_path):
    c = DyLoRAConfig(target_modules=("query", "value"), modules_to_save="classifier")
    assert isinstance(c, Config)
    assert c.r_max == 8 and c.r_min == 1 and c.alpha == 16.0 and c.update_mode == "frozen"
    assert c.target_modules == ["query", "value"] and c.modules_to_save == ["classifier"]
    back = DyLoRAConfig.from_dict(json.loads(json.dumps(c.to_dict())))
    assert back == c
    assert DyLoRAConfig.from_json(c.to_json(tmp_path / "c.json")) == c
    assert c.replace(r_max=4).r_max == 4
    assert c.resolved_eval_rank == 8 and c.ranks == list(range(1, 9))


def test_scale_rules():
    assert DyLoRAConfig(alpha=16).scale(4) == 4.0
    assert DyLoRAConfig(alpha=16, scaling="alpha_over_rmax").scale(4) == 2.0


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"r_min": 0}, "r_min: must be >= 1"),
        ({"r_min": 5, "r_max": 4}, r"r_min: must be <= r_max \(4\)"),
        ({"alpha": 0}, "alpha: must be > 0"),
        ({"dropout": 1.0}, r"dropout: must be >= 0 and < 1, got 1.0"),
        ({"geometric_p": 1.0}, r"geometric_p: must be > 0 and < 1, got 1.0"),
        ({"seed": -1}, "seed: must be >= 0, got -1"),
        ({"strict_freeze": "yes"}, "strict_freeze: must be true or false"),
        ({"update_mode": "some"}, "update_mode: must be one of 'frozen', 'all'"),
        ({"scaling": "sqrt"}, "scaling: must be one of 'alpha_over_b', 'alpha_over_rmax'"),
        ({"sampling_scope": "forward"}, "sampling_scope: must be one of 'global', 'per_layer'"),
        ({"rank_distribution": "x"}, "rank_distribution: must be one of 'uniform', 'geometric'"),
        ({"init": "zeros"}, "init: must be one of"),
        ({"eval_rank": 9}, r"eval_rank: must be in \[1, 8\], got 9"),
        ({"r_max": 2.5}, "r_max: must be an integer"),
    ],
)
def test_bad_values_give_one_line(kwargs, pattern):
    with pytest.raises(UserError, match=pattern) as err:
        DyLoRAConfig(**kwargs)
    assert "\n" not in str(err.value)


def test_from_dict_refuses_unknown_field():
    with pytest.raises(UserError, match=r"unknown field.*rank_max.*known fields: r_max") as err:
        DyLoRAConfig.from_dict({"rank_max": 4})
    assert "\n" not in str(err.value)


def test_run_options_round_trip_and_checks(tmp_path):
    opts = RunOptions(steps=4, label_names=("a", "b"))
    assert opts.label_names == ["a", "b"]
    assert RunOptions.from_json(opts.to_json(tmp_path / "run.json")) == opts
    with pytest.raises(UserError, match="steps: must be >= 1, got 0"):
        RunOptions(steps=0)
    with pytest.raises(UserError, match=r"lr: must be a finite number > 0, got 0\.0"):
        RunOptions(lr=0.0)
    with pytest.raises(UserError, match="lr: must be a finite number > 0, got inf"):
        RunOptions(lr=float("inf"))
    with pytest.raises(UserError, match=r"unknown field.*stepz"):
        RunOptions.from_dict({"stepz": 3})


def test_rank_pmf():
    assert DyLoRAConfig(r_min=2, r_max=5).rank_pmf() == {2: 0.25, 3: 0.25, 4: 0.25, 5: 0.25}
    pmf = DyLoRAConfig(rank_distribution="geometric", geometric_p=0.5, r_max=3).rank_pmf()
    assert pmf == pytest.approx({1: 4 / 7, 2: 2 / 7, 3: 1 / 7})


def test_parse_ranks():
    assert parse_ranks("1-8") == list(range(1, 9))
    assert parse_ranks("1,2,4,8") == [1, 2, 4, 8]
    assert parse_ranks("2-8:2") == [2, 4, 6, 8]
    assert parse_ranks("3, 1-2") == [1, 2, 3]
    with pytest.raises(UserError, match="cannot parse 'x'"):
        parse_ranks("1,x")
    with pytest.raises(UserError, match="cannot parse '5-2'"):
        parse_ranks("5-2")
    with pytest.raises(UserError, match=r"ranks: must be in \[1, 8\], got 9"):
        parse_ranks("1-9", DyLoRAConfig())
    with pytest.raises(UserError, match="ranks: must be >= 1"):
        parse_ranks("0")
