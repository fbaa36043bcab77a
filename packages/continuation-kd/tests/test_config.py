"""Bad configs are refused with one line naming the field."""

import pytest
from continuation_kd.config import (
    AnnealingKDConfig,
    ContinuationKDConfig,
    DistillConfig,
    VanillaKDConfig,
    psi_function,
)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"t_max": 0}, "t_max"),
        ({"t_max": 10, "n_epochs": 5}, r"n_epochs: must be >= t_max \(10\), got 5"),
        ({"margin": -1.0}, "margin"),
        ({"psi": "const:1.5"}, r"psi: must stay in \[0, 1\]"),
        ({"psi": lambda i: 1 - i / 30}, "must not decrease"),
        ({"psi": "eq9"}, "psi"),
        ({"distance": "l1"}, "distance"),
        ({"schedule": "fast"}, "schedule"),
    ],
)
def test_continuation_config_refuses(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        ContinuationKDConfig(**kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("kwargs", "match"), [({"tau": 0}, "tau"), ({"alpha": 1.5}, "alpha")])
def test_vanilla_config_refuses(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VanillaKDConfig(**kwargs)


def test_other_configs():
    assert AnnealingKDConfig(t_max=5, phase1_epochs=15, phase2_epochs=5).n_epochs == 20
    with pytest.raises(ValueError, match="phase1_epochs"):
        AnnealingKDConfig(t_max=10, phase1_epochs=5)
    with pytest.raises(ValueError, match="select"):
        DistillConfig(select="median")


def test_psi_specs_and_round_trip():
    assert psi_function("step:3")(3) == 0.0 and psi_function("step:3")(4) == 1.0
    assert psi_function("linear:30:30")(15) == 0.5 and psi_function("linear:30:30")(31) == 1.0
    cfg = ContinuationKDConfig(psi="eq7", n_epochs=200, t_max=20)
    assert ContinuationKDConfig.from_dict(cfg.to_dict()) == cfg
    assert "callable" in ContinuationKDConfig(psi=lambda i: 0.5).to_dict()["psi"]
