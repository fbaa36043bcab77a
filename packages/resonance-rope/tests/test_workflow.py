"""The command bodies as library calls: the freqs report, the posgen run (fit, one-cycle, resume)."""

from __future__ import annotations

import json

import pytest
from papershelf.errors import UserError
from resonance_rope.config import PosGenConfig, RopeConfig
from resonance_rope.workflow import freqs_report, run_posgen_command


def test_freqs_report_resonance_yarn():
    cfg = RopeConfig(
        64, rope_type="resonance_yarn", factor=4.0, original_max_position_embeddings=64
    )
    report = freqs_report(cfg)
    summary = report["summary"]
    assert (summary["train_len"], summary["test_len"], summary["pairs"]) == (64, 256, 32)
    assert summary["pre_critical_pairs"] == 6 and summary["max_gap_pre_critical"] == 0.0
    assert report["config"] == cfg.to_dict()
    with pytest.raises(UserError, match="test_len"):
        freqs_report(cfg, train_len=64, test_len=64)


TINY = {
    "epochs": 2,
    "batch_size": 32,
    "lr": 3e-3,
    "seed": 0,
    "yarn_schedule": "eval_only",
    "yarn_preset": "official",
    "paper_model": False,
    "device": "cpu",
}


def test_posgen_command_trains_one_cycle_and_resumes(tmp_path):
    task = PosGenConfig("cot", train_len=16, test_len=40, n_train=96, n_val=0, n_test=8)
    first = run_posgen_command(task, "resonance", tmp_path, **TINY)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["steps"] == 2 * (96 // 32)
    assert saved["train"]["schedule"] == "one_cycle" and saved["train"]["warmup_steps"] == 1
    assert set(saved["results"]) == {"resonance"}
    # a rerun finds the final checkpoint and resumes there: no step is trained twice
    again = run_posgen_command(task, "resonance", tmp_path, **TINY)
    assert again["final_loss"] == first["final_loss"]
    assert again["results"]["resonance"]["ood_acc"] == first["results"]["resonance"]["ood_acc"]


def load(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def test_posgen_killed_and_resumed_ends_with_the_uninterrupted_weights(tmp_path, monkeypatch):
    """A crash between checkpoints (step 8 of 12, checkpoints every 3); the same command
    again resumes from step 6 and ends bit for bit where an uninterrupted run ends."""
    import torch
    from resonance_rope import workflow

    task = PosGenConfig("cot", train_len=16, test_len=40, n_train=128, n_val=0, n_test=8)
    options = {**TINY, "epochs": 3}
    run_posgen_command(task, "resonance_yarn", tmp_path / "straight", **options)

    real_loss, calls = workflow.posgen_loss, []

    def dying_loss(model, batch):
        calls.append(1)
        if len(calls) == 8:
            raise KeyboardInterrupt  # the kill
        return real_loss(model, batch)

    monkeypatch.setattr(workflow, "posgen_loss", dying_loss)
    with pytest.raises(KeyboardInterrupt):
        run_posgen_command(task, "resonance_yarn", tmp_path / "killed", **options)
    assert not (tmp_path / "killed" / "model.safetensors").exists()
    resumed_steps = []

    def counting_loss(model, batch):
        resumed_steps.append(1)
        return real_loss(model, batch)

    monkeypatch.setattr(workflow, "posgen_loss", counting_loss)
    again = run_posgen_command(task, "resonance_yarn", tmp_path / "killed", **options)
    assert len(resumed_steps) == 12 - 6  # from the step-6 checkpoint, not from scratch
    straight, resumed = load(tmp_path / "straight"), load(tmp_path / "killed")
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    first = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    assert again["results"]["resonance"]["ood_acc"] == first["results"]["resonance"]["ood_acc"]


def test_posgen_rerun_with_other_arguments_is_refused(tmp_path):
    task = PosGenConfig("cot", train_len=16, test_len=40, n_train=96, n_val=0, n_test=8)
    run_posgen_command(task, "resonance", tmp_path, **TINY)
    before = load(tmp_path)
    with pytest.raises(UserError, match=r"epochs: 2 -> 1.*--overwrite"):
        run_posgen_command(task, "resonance", tmp_path, **{**TINY, "epochs": 1})
    with pytest.raises(UserError, match="seed"):
        run_posgen_command(task, "resonance", tmp_path, **{**TINY, "seed": 1})
    import torch

    assert all(torch.equal(before[k], v) for k, v in load(tmp_path).items())
    run_posgen_command(task, "resonance", tmp_path, **{**TINY, "epochs": 1}, overwrite=True)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["epochs"] == 1 and saved["steps"] == 96 // 32


def test_posgen_command_refuses_unknown_rope(tmp_path):
    task = PosGenConfig("cot", train_len=16, test_len=40, n_train=96, n_val=0, n_test=8)
    with pytest.raises(UserError, match="rope"):
        run_posgen_command(task, "alibi", tmp_path, **TINY)
