"""The command line: --help is fast, freqs, posgen, patch, error lines."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from papershelf.testing import run_console_script
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


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A tiny Llama and a tiny BERT (no rotary embedding) saved locally, a file, a full folder."""
    import torch
    from transformers import BertConfig, BertModel, LlamaConfig, LlamaForCausalLM

    root = tmp_path_factory.mktemp("cli")
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
    ).save_pretrained(root / "llama")
    BertModel(
        BertConfig(
            vocab_size=32,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
        )
    ).save_pretrained(root / "bert")
    (root / "file.txt").write_text("not a folder\n")
    (root / "full").mkdir()
    (root / "full" / "keep.txt").write_text("keep\n")
    return root


#: (arguments, exit status, text the one line must contain); {root} is the fixture folder.
BAD_INPUTS = [
    (["freqs", "--head-dim", "100000000"], 2, "head_dim"),
    (["freqs", "--base", "inf"], 2, "base"),
    (["freqs", "--base", "1"], 2, "base"),
    (["freqs", "--head-dim", "63"], 2, "head_dim"),
    (["freqs", "--head-dim", "abc"], 2, "head-dim"),
    (["freqs", "--factor", "0.5"], 2, "factor"),
    (["freqs", "--factor", "nan"], 2, "factor"),
    (["freqs", "--type", "rotary"], 2, "rope_type"),
    (["freqs", "--type", "yarn", "--factor", "2"], 2, "original_max_position_embeddings"),
    (
        ["freqs", "--type", "yarn", "--factor", "2", "--original-max", "8192", "--max-len", "4096"],
        2,
        "original_max_position_embeddings",
    ),
    (["freqs", "--train-len", "0"], 2, "train_len"),
    (["freqs", "--test-len", "10000000000"], 2, "GiB"),
    (["posgen", "--device", "bogus", "--out", "{root}/p1"], 2, "device"),
    (["posgen", "--n-train", "0", "--out", "{root}/p2"], 2, "n-train"),
    (["posgen", "--n-train", "10", "--out", "{root}/p3"], 2, "n-train"),
    (["posgen", "--n-test", "0", "--out", "{root}/p4"], 2, "n-test"),
    (["posgen", "--rope", "alibi"], 2, "rope"),
    (["posgen", "--task", "sorting", "--out", "{root}/p5"], 2, "rule"),
    (["posgen", "--epochs", "0", "--out", "{root}/p6"], 2, "epochs"),
    (["posgen", "--lr", "inf", "--out", "{root}/p7"], 2, "lr"),
    (["posgen", "--test-len", "1000000"], 2, "test-len"),
    (["posgen", "--out", "{root}/file.txt"], 2, "is a file"),
    (["posgen", "--train-len", "4000", "--test-len", "4096", "--out", "{root}/p9"], 2, "GiB"),
    (["posgen", "--yarn-schedule", "always", "--out", "{root}/p8"], 2, "yarn_schedule"),
    (["posgen", "--bogus-option", "3"], 2, "bogus-option"),
    (
        ["patch", "{root}/missing", "--out", "{root}/x1", "--type", "resonance"],
        2,
        "not a model folder",
    ),
    (["patch", "{root}/bert", "--out", "{root}/x2", "--type", "resonance"], 2, "no rotary"),
    (["patch", "{root}/llama", "--out", "{root}/file.txt", "--type", "resonance"], 2, "is a file"),
    (["patch", "{root}/llama", "--out", "{root}/full", "--type", "resonance"], 2, "--overwrite"),
    (["patch", "{root}/llama", "--out", "{root}/x3", "--factor", "4"], 2, "original-max"),
    (["patch", "{root}/llama"], 2, "--out"),
    (["reproduce", "--device", "bogus", "--out", "{root}/r1"], 2, "device"),
    (["reproduce", "--claim", "nope", "--out", "{root}/r2"], 2, "claim"),
]


def run_main(args, monkeypatch, capsys):
    """The console script in this process: (exit status, stdout, stderr)."""
    from resonance_rope.cli import main

    return run_console_script(main, "resonance-rope", args, monkeypatch, capsys)


def test_the_table_has_enough_cases():
    assert len(BAD_INPUTS) >= 15


@pytest.mark.parametrize(("args", "status", "text"), BAD_INPUTS, ids=lambda v: str(v)[:60])
def test_bad_input_one_line(args, status, text, folders, monkeypatch, capsys):
    args = [a.format(root=folders) for a in args]
    code, _, err = run_main(args, monkeypatch, capsys)
    lines = err.strip().splitlines()
    assert code == status, err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and text in lines[0], lines[0]
    assert "Traceback" not in err
    assert not (folders / "file.txt").is_dir() and (folders / "full" / "keep.txt").is_file()
    assert not any(
        p.name.startswith(("p", "x", ".x")) for p in folders.iterdir() if p.name != "file.txt"
    )


def test_bad_input_in_a_real_process():
    """The same one line from the console script's process (no traceback from Python itself)."""
    args = ["freqs", "--head-dim", "100000000"]
    code = f"import sys; sys.argv = ['resonance-rope', *{args!r}]; from resonance_rope.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "head_dim" in proc.stderr


def test_debug_shows_the_traceback(monkeypatch, capsys):
    with pytest.raises(Exception, match="head_dim"):
        run_main(["freqs", "--head-dim", "63", "--debug"], monkeypatch, capsys)


def test_bare_command_prints_help(monkeypatch, capsys):
    code, out, _ = run_main([], monkeypatch, capsys)
    assert code == 0 and "posgen" in out


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


def test_patch_overwrite_replaces_the_folder_whole(folders, tmp_path):
    from resonance_rope.hf import load_pretrained

    out = tmp_path / "patched"
    out.mkdir()
    (out / "old.txt").write_text("old\n")
    args = ["patch", str(folders / "llama"), "--out", str(out), "--type", "resonance"]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code != 0 and (out / "old.txt").is_file()  # nothing half-written
    result = CliRunner().invoke(app, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert not (out / "old.txt").exists() and (out / "config.json").is_file()
    assert load_pretrained(out).config.rope_parameters["rope_type"] == "resonance"
    assert [p.name for p in tmp_path.iterdir()] == ["patched"]  # no temporary folder left
