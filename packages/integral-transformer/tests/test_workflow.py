"""train -> analyze round trip; same seed, same files."""

import json

import pytest
from integral_transformer.config import LMConfig, NoisyRecallConfig, ZooConfig
from integral_transformer.workflow import analyze_model, load_lm, train_model
from papershelf.errors import UserError


def _train(out):
    task = NoisyRecallConfig(num_pairs=4, seq_len=32)
    lm = LMConfig(hidden_size=32, intermediate_size=32, max_positions=32, num_signals=2)
    run = ZooConfig(steps=3, batch_size=4, n_eval=8)
    return train_model(lm, task, run, out, seed=1)


def test_train_analyze_and_repeatable(tmp_path):
    _train(tmp_path / "a")
    _train(tmp_path / "b")
    for name in ("model.safetensors", "metrics.json", "model_config.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    model, task = load_lm(tmp_path / "a")
    assert task.seq_len == 32 and model.config.num_signals == 2
    report = analyze_model(tmp_path / "a", tmp_path / "an", n=4)
    assert (tmp_path / "an" / "attention_maps.png").is_file()
    assert len(report["mean_rank"]) == 4
    json.loads((tmp_path / "an" / "analysis.json").read_text())


def test_missing_model_dir(tmp_path):
    with pytest.raises(UserError, match="model_dir"):
        load_lm(tmp_path / "nope")
