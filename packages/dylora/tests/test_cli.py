"""The dylora command: --help is fast, bad input is one line, train -> eval -> export works."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import torch
from dylora.cli import app
from papershelf.testing import run_console_script
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


# ----- issue 27: bad input is one line, runs are seeded, folders resume only what matches -----


class _Out:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def dylora(capsys, monkeypatch):
    """Run the console script in-process (``dylora ARGS`` through ``run_app``)."""
    from dylora.cli import main

    def call(*args: str) -> _Out:
        return _Out(*run_console_script(main, "dylora", args, monkeypatch, capsys))

    return call


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "latin1.csv").write_bytes(b"text,label\ngood text,pos\ncaf\xe9 au lait,neg\n")
    (folder / "broken.jsonl").write_text('{"text": "a", "label": "x"}\n{"text": \n')
    (folder / "good.csv").write_text("text,label\na b c,pos\nd e f,neg\n")
    (folder / "a_file").write_text("not a folder\n")
    return folder


BAD_INPUTS = [
    # (args, expected exit code, text the one line must contain)
    (["train", "--steps", "abc"], 2, "--steps"),
    (["train", "--bogus-option", "3"], 2, "No such option"),
    (["train", "--r-min", "5", "--r-max", "4"], 2, "r_min: must be <= r_max"),
    (["train", "--lr", "inf"], 2, "lr: must be a finite number > 0, got inf"),
    (["train", "--lr", "-1"], 2, "lr:"),
    (["train", "--alpha", "nan"], 2, "alpha"),
    (["train", "--update-mode", "bogus"], 2, "update_mode"),
    (["train", "--scaling", "bogus"], 2, "scaling"),
    (["train", "--steps", "0"], 2, "steps"),
    (["train", "--batch-size", "0"], 2, "batch_size"),
    (["train", "--checkpoint-every", "-1"], 2, "checkpoint_every"),
    (["train", "--model", "./no/such/model"], 2, "local path './no/such/model' does not exist"),
    (["train", "--train", "{bad}/missing.csv", "--eval", "{bad}/good.csv"], 2, "does not exist"),
    (["train", "--train", "{bad}/latin1.csv", "--eval", "{bad}/good.csv"], 2, "latin1.csv:3:"),
    (["train", "--train", "{bad}/broken.jsonl"], 2, "broken.jsonl:2:"),
    (["train", "--out", "{bad}/a_file"], 2, "is a file"),
    (["train", "--model", "tiny-encoder", "--r-max", "100000"], 2, "r_max: must be <= 64"),
    (["train", "--model", "tiny-encoder", "--target-modules", "nomatch"], 2, "nomatch"),
    (["train", "--model", "tiny-encoder", "--batch-size", "5000"], 2, "batch_size: must be <="),
    (["train", "--out", "{run}", "--lr", "0.05"], 2, "holds a run made with other arguments"),
    (["eval", "{bad}/no_run"], 2, "neither a dylora train folder"),
    (["eval", "{run}", "--ranks", "0-3"], 2, "ranks: must be >= 1"),
    (["eval", "{run}", "--ranks", "a-b"], 2, "cannot parse 'a-b'"),
    (["eval", "{run}", "--eval", "{bad}/latin1.csv"], 2, "latin1.csv:3:"),
    (
        ["eval", "{run}/adapter", "--model", "tiny-encoder", "--ranks", "1"],
        2,
        "randomly initialised",
    ),
    (["export", "{run}", "--rank", "99", "--out", "{tmp}/x"], 2, "--rank"),
    (["export", "{run}", "--rank", "2", "--format", "bogus", "--out", "{tmp}/x"], 2, "--format"),
    (["export", "{run}", "--rank", "2", "--out", "{bad}/a_file"], 2, "is a file"),
    (["export", "{run}"], 2, "--rank"),
]


@pytest.mark.parametrize(("args", "code", "text"), BAD_INPUTS, ids=lambda v: str(v)[:40])
def test_bad_input_table(dylora, trained, bad_files, tmp_path, monkeypatch, args, code, text):
    monkeypatch.chdir(tmp_path)  # a default --out lands in the test's own folder
    args = [a.format(bad=bad_files, run=trained, tmp=tmp_path) if "{" in a else a for a in args]
    if args[0] == "train" and "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    got = dylora(*args)
    lines = got.err.strip().splitlines()
    assert "Traceback" not in got.err and "Traceback" not in got.out
    assert len(lines) == 1, got.err
    assert lines[0].startswith("error: ") and text in lines[0], lines[0]
    assert got.code == code, got.err


def test_read_only_output_is_one_line(dylora, tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        got = dylora("train", "--model", "tiny-encoder", "--steps", "1", "--out", str(locked / "r"))
    finally:
        locked.chmod(0o700)
    lines = got.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in got.err
    assert got.code == 2 and "permission denied" in lines[0]


TINY_RUN = [
    "train", "--model", "tiny-encoder", "--steps", "5", "--batch-size", "8", "--r-max", "4",
    "--checkpoint-every", "2", "--update-mode", "all",
]  # fmt: skip


def _files(folder):
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """An uninterrupted ``dylora train`` on a random tiny-encoder base."""
    from dylora.cli import main

    out = tmp_path_factory.mktemp("tiny") / "run"
    saved = sys.argv
    sys.argv = ["dylora", *TINY_RUN, "--out", str(out)]
    try:
        main()  # exits only on an error
    finally:
        sys.argv = saved
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    return out


def test_same_command_twice_gives_identical_files(dylora, tiny_run):
    first = _files(tiny_run)
    assert "base/model.safetensors" in first and "checkpoints/latest" in first
    got = dylora(*TINY_RUN, "--out", str(tiny_run), "--overwrite")
    assert got.code == 0 and "adapter:" in got.out, got.err
    second = _files(tiny_run)
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, differ


def test_random_base_is_saved_so_eval_and_export_see_the_trained_model(dylora, tiny_run, tmp_path):
    from dylora import DyLoRAModel
    from transformers import AutoModelForSequenceClassification

    metrics = json.loads((tiny_run / "metrics.json").read_text())
    got = dylora("eval", str(tiny_run), "--ranks", "4", "--out", str(tmp_path / "ev"))
    assert got.code == 0, got.err
    row = json.loads((tmp_path / "ev" / "ranks.json").read_text())["ranks"]["4"]
    assert row["accuracy"] == metrics["eval"]["accuracy"]
    assert row["nll"] == pytest.approx(metrics["eval"]["nll"], abs=1e-6)
    assert dylora("export", str(tiny_run), "--rank", "3", "--format", "merged", "--out", str(tmp_path / "m")).code == 0  # fmt: skip
    base = AutoModelForSequenceClassification.from_pretrained(tiny_run / "base").eval()
    ours = DyLoRAModel.from_pretrained(base, tiny_run / "adapter", rank=3).eval()
    merged = AutoModelForSequenceClassification.from_pretrained(tmp_path / "m").eval()
    ids = torch.randint(1000, 2000, (3, 7), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(merged(input_ids=ids).logits, ours(input_ids=ids).logits)
        fresh, _ = __import__("papershelf.models", fromlist=["load_model"]).load_model(
            "tiny-encoder", task="sequence-classification", num_labels=4
        )
        assert not torch.allclose(fresh.eval()(input_ids=ids).logits, ours(input_ids=ids).logits)


class SimulatedKill(Exception):
    pass


def test_killed_run_resumes_to_the_same_weights(dylora, tiny_run, tmp_path, monkeypatch):
    from dylora.sampling import RankHook
    from safetensors.torch import load_file

    real = RankHook.on_step_end

    def killed_at_step_3(self, state):
        real(self, state)
        if state.step == 3:  # the process dies here (typer turns a Ctrl-C into a silent exit 0)
            raise SimulatedKill("killed after step 3")

    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(RankHook, "on_step_end", killed_at_step_3)
        got = dylora(*TINY_RUN, "--out", str(out))
    assert got.code == 1 and "killed after step 3" in got.err, (got.err, got.out)
    assert (out / "checkpoints" / "latest").read_text().strip() == "checkpoint-2"
    assert not (out / "adapter").exists()
    started: list[int] = []
    real_start = RankHook.on_step_start
    with monkeypatch.context() as m:
        m.setattr(RankHook, "on_step_start", lambda self, st: (started.append(st.step), real_start(self, st)))  # fmt: skip
        assert dylora(*TINY_RUN, "--out", str(out)).code == 0  # the same command resumes
    assert started == [2, 3, 4]  # from checkpoint-2, not from scratch
    resumed = load_file(out / "adapter" / "adapter_model.safetensors")
    straight = load_file(tiny_run / "adapter" / "adapter_model.safetensors")
    assert resumed.keys() == straight.keys()
    for key in straight:
        assert torch.equal(resumed[key], straight[key]), key
    assert (out / "metrics.json").read_bytes() == (tiny_run / "metrics.json").read_bytes()
