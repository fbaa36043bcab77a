"""The command line: schedule output, one-line errors with status 2, distill on local files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from continuation_kd.cli import app
from typer.testing import CliRunner


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "continuation_kd.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_schedule_prints_phi_psi_margin():
    result = CliRunner().invoke(app, ["schedule", "--t-max", "10", "--epochs", "30", "--json"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 30
    assert rows[0] == {
        "epoch": 1,
        "T": 10,
        "phi": pytest.approx(0.1),
        "psi": 0.025,
        "margin": pytest.approx(0.1),
    }
    assert rows[20]["psi"] == 1.0 and rows[-1]["phi"] == 1.0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["schedule", "--t-max", "0"], "t_max: must be >= 1"),
        (["schedule", "--psi", "const:1.5"], "psi: must stay in [0, 1]"),
        (["schedule", "--margin", "-0.5"], "margin: must be >= 0"),
        (["schedule", "--epochs", "5"], "n_epochs: must be >= t_max"),
    ],
)
def test_bad_input_one_line_status_2(args, match):
    proc = run_cli(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _data(tmp_path):
    words = ["apple pie", "red car", "green tea", "fast bike"]
    rows = [{"text": f"{words[i % 4]} {i}", "label": i % 2} for i in range(16)]
    _write(tmp_path / "train.jsonl", rows)
    _write(tmp_path / "val.jsonl", rows[:8])


@pytest.mark.slow
def test_distill_command_on_local_files(tmp_path):
    words = ["apple pie", "red car", "green tea", "fast bike"]
    rows = [{"text": f"{words[i % 4]} {i}", "label": i % 2} for i in range(16)]
    _write(tmp_path / "train.jsonl", rows)
    _write(tmp_path / "val.jsonl", rows[:8])
    from continuation_kd.config import ContinuationKDConfig, DistillConfig
    from continuation_kd.workflow import distill_files

    cfg = ContinuationKDConfig(t_max=2, n_epochs=2, psi="linear:4:2")
    args = DistillConfig(epochs=2, batch_size=8)
    summary = distill_files(
        "tiny-encoder",
        "tiny-encoder",
        tmp_path / "train.jsonl",
        tmp_path / "val.jsonl",
        tmp_path / "out",
        method="continuation",
        config=cfg,
        args=args,
        max_length=8,
    )
    assert [h["epoch"] for h in summary["history"]] == [1, 2]
    assert (tmp_path / "out" / "student.safetensors").is_file()
    assert (tmp_path / "out" / "teacher_logits.safetensors").is_file()


def test_distill_command_refuses_a_teacher_with_another_label_count(tmp_path):
    _data(tmp_path)
    teacher_dir = tmp_path / "teacher3"
    from papershelf.models import load_model

    model, tok = load_model("tiny-encoder", task="sequence-classification", num_labels=3)
    model.save_pretrained(teacher_dir)
    tok.save_pretrained(teacher_dir)
    proc = run_cli(
        "distill",
        "--teacher",
        str(teacher_dir),
        "--student",
        "tiny-encoder",
        "--train",
        str(tmp_path / "train.jsonl"),
        "--val",
        str(tmp_path / "val.jsonl"),
        "--out",
        str(tmp_path / "out3"),
        "--t-max",
        "2",
        "--epochs",
        "2",
    )
    assert proc.returncode == 2, proc.stderr
    assert "same label count" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
