"""The dylora command: --help is fast, bad input is one line, train -> eval -> export works."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import torch
from dylora.cli import app
from typer.testing import CliRunner


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from dylora.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_is_fast_and_imports_no_torch():
    start = time.perf_counter()
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    for cmd in ("train", "eval", "export", "reproduce", "bench"):
        assert cmd in proc.stdout
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, dylora.cli, dylora.paper; print('torch' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.stdout.strip() == "False"
    assert time.perf_counter() - start < 60  # generous: the box is shared


def test_bad_config_is_one_line_exit_2():
    proc = run_cli("train", "--r-min", "5", "--r-max", "4")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: r_min: must be <= r_max (4), got 5"


def test_train_writes_run_folder(trained):
    assert (trained / "adapter" / "adapter_model.safetensors").is_file()
    cfg = json.loads((trained / "adapter" / "adapter_config.json").read_text())
    assert cfg["r_max"] == 4 and cfg["modules_to_save"] == ["classifier"]
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["steps"] == 4 and 0 <= metrics["eval"]["accuracy"] <= 1


def test_eval_ranks_table_json_and_plot(trained):
    result = CliRunner().invoke(
        app, ["eval", str(trained), "--ranks", "1,2,4"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((trained / "ranks.json").read_text())
    assert list(doc["ranks"]) == ["1", "2", "4"]
    assert doc["ranks"]["2"]["adapter_params"] == 2 * 2 * 2 * (64 + 64)  # b·(in+out)·modules
    assert (trained / "accuracy_vs_rank.png").is_file()
    assert "<- best" in result.output


def test_export_peft_and_merged_agree(trained, base_dir, tmp_path):
    peft = pytest.importorskip("peft")
    from dylora import DyLoRAModel
    from papershelf.models import load_model
    from transformers import AutoModelForSequenceClassification

    runner = CliRunner()
    for fmt in ("peft", "merged"):
        result = runner.invoke(
            app,
            ["export", str(trained), "--rank", "2", "--format", fmt, "--out", str(tmp_path / fmt)],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
    ids = torch.randint(1000, 2000, (3, 7), generator=torch.Generator().manual_seed(0))

    def fresh_base():
        return load_model(str(base_dir), task="sequence-classification", num_labels=4)[0].eval()

    ours = DyLoRAModel.from_pretrained(fresh_base(), trained / "adapter", rank=2)
    merged = AutoModelForSequenceClassification.from_pretrained(tmp_path / "merged").eval()
    with torch.no_grad():
        ref = ours(input_ids=ids).logits
        torch.testing.assert_close(merged(input_ids=ids).logits, ref, atol=1e-5, rtol=1e-5)
        lora = peft.PeftModel.from_pretrained(fresh_base(), tmp_path / "peft").eval()
        torch.testing.assert_close(lora(input_ids=ids).logits, ref, atol=1e-5, rtol=1e-5)
