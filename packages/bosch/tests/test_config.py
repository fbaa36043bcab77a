"""Config validation: one-line errors naming the field."""

import pytest
from bosch.config import BoschConfig, TaskConfig, TinyLMConfig
from papershelf.errors import UserError


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"ratio": 1.5}, "ratio"),
        ({"ratio": -0.1}, "ratio"),
        ({"window": 0}, "window"),
        ({"solver": "nomad"}, "solver"),
        ({"stages": "two"}, "stages"),
        ({"bucket_offsets": (2, 0, -2)}, "bucket_offsets"),
    ],
)
def test_bosch_config_refuses(kwargs, field):
    with pytest.raises(UserError, match=f"^{field}:"):
        BoschConfig(**kwargs)


def test_round_trip_and_other_configs():
    cfg = BoschConfig(ratio=0.25, window=8)
    assert BoschConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(UserError, match="num_kv_heads"):
        TinyLMConfig(num_heads=4, num_kv_heads=3)
    assert TaskConfig(num_keys=3, filler=4).seq_len == 10
