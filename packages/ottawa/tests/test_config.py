import pytest
from ottawa.config import OttawaConfig


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reg": 0}, "reg"),
        ({"reg": -1}, "reg"),
        ({"reg": float("nan")}, "reg"),
        ({"solver": "x"}, "solver"),
        ({"null_weight": -0.1}, "null_weight"),
        ({"null_cost": "x"}, "null_cost"),
        ({"null_cost": 2.0}, "null_cost"),
        ({"alignment": "x"}, "alignment"),
        ({"word_score": "x"}, "word_score"),
        ({"num_iter": 0}, "num_iter"),
    ],
)
def test_bad_values_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        OttawaConfig(**kwargs)


def test_small_reg_switches_to_log_domain():
    with pytest.warns(UserWarning, match="pot-log"):
        cfg = OttawaConfig(reg=0.01)
    assert cfg.solver == "pot-log"
    assert OttawaConfig(reg=0.01, solver="torch-log").solver == "torch-log"


def test_json_roundtrip(tmp_path):
    cfg = OttawaConfig(reg=0.1, null_cost=0.3, alignment="union")
    assert OttawaConfig.from_json(cfg.to_json(tmp_path / "config.json")) == cfg
    assert OttawaConfig.from_dict(OttawaConfig().to_dict()) == OttawaConfig()
    with pytest.raises(ValueError, match="unknown field"):
        OttawaConfig.from_dict({"bogus": 1})
    (tmp_path / "bogus.json").write_text('{"bogus": 1}')
    with pytest.raises(ValueError, match="unknown field"):
        OttawaConfig.from_json(tmp_path / "bogus.json")
