import pytest
from papershelf.errors import UserError
from regla.config import LMConfig, ReGLAConfig, TrainJobConfig, resolve_layer_types, variance_alpha


def test_defaults_and_presets():
    c = ReGLAConfig()
    assert (c.feature_map, c.gate, c.norm, c.norm_scope, c.resolved_sub_chunk) == (
        "safe_exp",
        "refine",
        "rmsnorm",
        "head",
        16,
    )
    assert ReGLAConfig.gla().gate == "sigmoid" and ReGLAConfig.la_relu().norm == "denominator"
    assert abs(variance_alpha(64) - 0.0182) < 1e-4


def test_round_trip_and_unknown_keys():
    lm = LMConfig(layer_types=("softmax", "regla"))
    assert LMConfig.from_dict(lm.to_dict()) == lm
    with pytest.raises(UserError, match="unknown field"):
        ReGLAConfig.from_dict({"gat": "refine"})


def test_alternate_layout_puts_regla_at_odd_indices():
    assert [i for i, t in enumerate(resolve_layer_types("alternate", 12)) if t == "regla"] == list(
        range(1, 12, 2)
    )


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"hidden_size": 10, "num_heads": 3}, "num_heads"),
        ({"feature_map": "cos"}, "feature_map"),
        ({"gate": "lstm"}, "gate"),
        ({"norm": "batch"}, "norm"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"chunk_size": 24, "sub_chunk": 16}, "chunk_size"),
    ],
)
def test_bad_attention_configs(kw, field):
    with pytest.raises(UserError, match=field):
        ReGLAConfig(**kw)


def test_bad_lm_and_job_configs():
    with pytest.raises(UserError, match="layer_types"):
        LMConfig(num_layers=3, layer_types=("regla",))
    with pytest.raises(UserError, match="data"):
        TrainJobConfig(task="text")
