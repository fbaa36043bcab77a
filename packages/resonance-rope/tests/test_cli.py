"""The command line: --help is fast, freqs, posgen, patch, error lines."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from resonance_rope.cli import app
from typer.testing import CliRunner


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "resonance_rope.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_subprocess_is_quick():
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from resonance_rope.cli import main; "
            "sys.argv = ['resonance-rope', '--help']; main()",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0
    assert "posgen" in proc.stdout and "freqs" in proc.stdout and "reproduce" in proc.stdout
    assert (
        time.perf_counter() - start < 30
    )  # generous: the machine is shared; torch must not be imported
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resonance_rope.cli, resonance_rope.paper, sys; print('torch' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.stdout.strip() == "False"


def test_freqs_json():
    result = CliRunner().invoke(
        app,
        [
            "freqs",
            "--head-dim",
            "64",
            "--type",
            "resonance_yarn",
            "--factor",
            "4",
            "--original-max",
            "64",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["summary"]["pre_critical_pairs"] == 6
    assert doc["summary"]["max_gap_pre_critical"] == 0.0
    assert doc["summary"]["attention_factor"] == pytest.approx(1.13863, abs=1e-5)
    assert all(isinstance(r["integer"], int) for r in doc["pairs"])


def test_freqs_table():
    result = CliRunner().invoke(app, ["freqs", "--head-dim", "16", "--train-len", "64"])
    assert result.exit_code == 0 and "pre-critical" in result.output


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["freqs", "--factor", "0.5"], "factor"),
        (["freqs", "--head-dim", "63"], "head_dim"),
        (
            [
                "freqs",
                "--type",
                "yarn",
                "--factor",
                "2",
                "--original-max",
                "8192",
                "--max-len",
                "4096",
            ],
            "original_max_position_embeddings",
        ),
        (["freqs", "--type", "rotary"], "rope_type"),
        (["posgen", "--rope", "alibi"], "rope"),
        (["posgen", "--task", "sorting"], "rule"),
    ],
)
def test_bad_input_one_line(args, field):
    from resonance_rope.cli import main

    code = f"import sys; sys.argv = ['resonance-rope', *{args!r}]; from resonance_rope.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0]
    assert main  # the entry point exists


def test_posgen_command_writes_outputs(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "posgen",
            "--task",
            "cot",
            "--rope",
            "resonance_yarn",
            "--epochs",
            "1",
            "--n-train",
            "128",
            "--n-test",
            "16",
            "--train-len",
            "16",
            "--test-len",
            "40",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics["results"]) == {"resonance", "resonance_yarn (eval switch)"}
    assert (tmp_path / "per_position.png").stat().st_size > 0
    assert (tmp_path / "model.safetensors").is_file()


def test_patch_command(tmp_path):
    import torch
    from resonance_rope.hf import load_pretrained
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    LlamaForCausalLM(
        LlamaConfig(
            vocab_size=32,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            head_dim=16,
            max_position_embeddings=256,
        )
    ).save_pretrained(tmp_path / "base")
    result = CliRunner().invoke(
        app,
        [
            "patch",
            str(tmp_path / "base"),
            "--out",
            str(tmp_path / "new"),
            "--type",
            "resonance_yarn",
            "--factor",
            "4",
            "--original-max",
            "64",
        ],
    )
    assert result.exit_code == 0, result.output
    model = load_pretrained(tmp_path / "new")
    assert model.config.rope_parameters["rope_type"] == "resonance_yarn"
    assert model.model.rotary_emb.rope_type == "resonance_yarn"
