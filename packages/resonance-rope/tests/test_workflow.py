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


def test_posgen_command_refuses_unknown_rope(tmp_path):
    task = PosGenConfig("cot", train_len=16, test_len=40, n_train=96, n_val=0, n_test=8)
    with pytest.raises(UserError, match="rope"):
        run_posgen_command(task, "alibi", tmp_path, **TINY)
