import json

import pytest
import torch
from papershelf.errors import UserError
from regla.config import LMConfig, ReGLAConfig, TrainJobConfig
from regla.workflow import (
    gate_stats,
    generate_from_run,
    linearize_model,
    load_linearized,
    load_run,
    train_lm,
)


def _job(**kw):
    lm = LMConfig(
        vocab_size=16,
        hidden_size=16,
        num_layers=2,
        num_heads=2,
        layer_types="alternate",
        attention=ReGLAConfig(chunk_size=8),
    )
    return TrainJobConfig(
        **{
            "task": "mqar",
            "lm": lm,
            "steps": 3,
            "batch_size": 4,
            "seq_len": 16,
            "num_pairs": 2,
            **kw,
        }
    )


def test_train_save_load_generate_and_same_seed_same_files(tmp_path):
    r = train_lm(_job(), tmp_path / "a", progress=False)
    train_lm(_job(), tmp_path / "b", progress=False)
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (
        tmp_path / "b" / "model.safetensors"
    ).read_bytes()
    assert 0 <= r["recall_accuracy"] <= 1
    model = load_run(tmp_path / "a")
    for a, b in zip(model.state_dict().values(), r["model"].state_dict().values(), strict=True):
        assert torch.equal(a, b)
    out = generate_from_run(tmp_path / "a", [1, 2, 3], 4)
    assert len(out) == 7 and out[:3] == [1, 2, 3]
    with pytest.raises(UserError, match="prompt-ids"):
        generate_from_run(tmp_path / "a", [99], 2)
    with pytest.raises(UserError, match="run"):
        load_run(tmp_path / "missing")
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["steps"] == 3


def test_gate_stats_histograms():
    r = train_lm(_job(steps=1), progress=False)
    stats = gate_stats(r["model"], torch.randint(0, 16, (2, 16)))
    (layer,) = stats.values()
    assert abs(sum(layer["hist"]) - 1) < 1e-6 and 0 <= layer["frac_above_0.99"] <= 1


def test_linearize_tiny_save_and_reload(tmp_path):
    r = linearize_model(None, tmp_path, "alternate", ReGLAConfig(chunk_size=8), steps=2, tiny=True)
    assert r["regla_layers"] == [1]
    again = load_linearized(tmp_path)
    ids = torch.randint(0, 64, (1, 9))
    with torch.no_grad():
        assert torch.allclose(again(ids).logits, r["model"].eval()(ids).logits, atol=1e-6)
    with pytest.raises(UserError, match="does not exist"):
        linearize_model(tmp_path / "nope", tmp_path / "o")
