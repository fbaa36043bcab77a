"""The ``krona`` console script: fast --help, one-line errors, train -> eval -> merge."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch
from papershelf.testing import run_console_script


def _krona(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    code = "import sys; from krona.cli import main; sys.argv = ['krona', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout
    )


class _Out:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def krona(capsys, monkeypatch):
    """Run the console script in-process (as ``krona ARGS``), returning code and output."""
    from krona.cli import main

    def call(*args: str) -> _Out:
        return _Out(*run_console_script(main, "krona", args, monkeypatch, capsys))

    return call


def test_help_is_fast_and_lists_commands():
    start = time.perf_counter()
    out = _krona("--help")
    assert out.returncode == 0, out.stderr
    for cmd in ("train", "eval", "merge", "reproduce", "bench", "shapes"):
        assert cmd in out.stdout
    assert (
        time.perf_counter() - start < 10
    )  # generous: the machine is shared; torch is not imported
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import krona.cli, krona.paper, krona, sys; print('torch' in sys.modules)",
        ],
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--out", "x", "--variant", "foo"], "error: variant: must be one of 'linear'"),
        (["train", "--out", "x", "--scale", "0"], "error: scale: must be non-zero"),
        (["train", "--out", "x", "--shapes", "A=3"], "error: shapes:"),
        (["train", "--out", "x", "--steps", "0"], "error: max_steps: must be >= 1"),
    ],
)
def test_bad_input_is_one_line(krona, args, message):
    out = krona(*args)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert out.stderr.startswith(message)


def test_train_eval_merge_round_trip(krona, tmp_path):
    out = krona(
        "train",
        "--out",
        str(tmp_path / "a"),
        "--model",
        "tiny-encoder",
        "--steps",
        "2",
        "--batch-size",
        "8",
    )
    assert out.returncode == 0, out.stderr
    trained = out.stdout.strip().splitlines()[-1]
    assert (tmp_path / "a" / "adapter_model.safetensors").is_file()
    ev = krona("eval", str(tmp_path / "a"))
    assert ev.returncode == 0, ev.stderr
    # the same accuracy and NLL as measured at the end of training
    assert trained.split(";")[0].replace("eval ", "") == ev.stdout.split("  (")[0]
    merged = krona("merge", str(tmp_path / "a"), "--out", str(tmp_path / "m"))
    assert merged.returncode == 0, merged.stderr
    assert (tmp_path / "m" / "encoder" / "config.json").is_file()


def test_merge_of_block_variant_refused(krona, tmp_path):
    out = krona(
        "train",
        "--out",
        str(tmp_path / "b"),
        "--model",
        "tiny-encoder",
        "--steps",
        "1",
        "--batch-size",
        "8",
        "--variant",
        "block",
    )
    assert out.returncode == 0, out.stderr
    merged = krona("merge", str(tmp_path / "b"), "--out", str(tmp_path / "m"))
    assert merged.returncode == 2
    assert "cannot be merged: the FFN between input and output is nonlinear" in merged.stderr


# ----- issue 27: bad input is one line, runs are seeded, folders resume only what matches -----


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "latin1.csv").write_bytes(b"text,label\ngood text,pos\ncaf\xe9 au lait,neg\n")
    (folder / "broken.jsonl").write_text('{"text": "a", "label": "x"}\n{"text": \n')
    (folder / "good.csv").write_text("text,label\na b c,pos\nd e f,neg\n")
    (folder / "a_file").write_text("not a folder\n")
    return folder


TINY_RUN = [
    "train",
    "--model",
    "tiny-encoder",
    "--steps",
    "5",
    "--batch-size",
    "8",
    "--checkpoint-every",
    "2",
]


def _files(folder):
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """An uninterrupted ``krona train`` on a random tiny-encoder base."""
    out = tmp_path_factory.mktemp("tiny") / "run"
    got = _krona(*TINY_RUN, "--out", str(out))
    assert got.returncode == 0, got.stderr
    return out


@pytest.fixture(scope="module")
def unknown_key_run(tiny_run, tmp_path_factory):
    import json
    import shutil

    folder = tmp_path_factory.mktemp("unknown") / "run"
    shutil.copytree(tiny_run, folder)
    cfg = json.loads((folder / "adapter_config.json").read_text())
    cfg["bogus_key"] = 1
    (folder / "adapter_config.json").write_text(json.dumps(cfg))
    return folder


BAD_INPUTS = [
    # (args, expected exit code, text the one line must contain)
    (["train", "--steps", "abc"], 2, "--steps"),
    (["train", "--bogus-option", "3"], 2, "No such option"),
    (["train"], 2, "--out"),
    (["train", "--variant", "foo"], 2, "variant: must be one of"),
    (["train", "--scale", "0"], 2, "scale: must be non-zero"),
    (["train", "--scale", "inf"], 2, "scale"),
    (["train", "--shapes", "A=3"], 2, "shapes:"),
    (["train", "--steps", "0"], 2, "max_steps: must be >= 1"),
    (["train", "--lr", "inf"], 2, "lr: must be a finite number > 0, got inf"),
    (["train", "--lr", "0"], 2, "lr"),
    (["train", "--batch-size", "0"], 2, "batch_size"),
    (["train", "--checkpoint-every", "-2"], 2, "checkpoint_every"),
    (["train", "--model", "./no/such/model"], 2, "local path './no/such/model' does not exist"),
    (["train", "--train", "{bad}/good.csv"], 2, "give both --train and --eval"),
    (["train", "--train", "{bad}/missing.csv", "--eval", "{bad}/good.csv"], 2, "does not exist"),
    (["train", "--train", "{bad}/latin1.csv", "--eval", "{bad}/good.csv"], 2, "latin1.csv:3:"),
    (
        [
            "train",
            "--train",
            "{bad}/broken.jsonl",
            "--eval",
            "{bad}/good.csv",
            "--model",
            "tiny-encoder",
        ],
        2,
        "broken.jsonl:2:",
    ),
    (["train", "--out", "{bad}/a_file"], 2, "is a file"),
    (["train", "--model", "tiny-encoder", "--batch-size", "5000"], 2, "batch_size: must be <="),
    (["train", "--model", "tiny-encoder", "--target-modules", "nomatch"], 2, "nomatch"),
    (
        ["train", "--out", "{run}", "--model", "tiny-encoder", "--steps", "6"],
        2,
        "holds a run made with other arguments",
    ),
    (["eval", "{bad}"], 2, "krona_train.json"),
    (["eval", "{run}", "--eval", "{bad}/latin1.csv"], 2, "latin1.csv:3:"),
    (["eval", "{unknown}"], 2, "unknown key(s) 'bogus_key'"),
    (["merge", "{run}", "--out", "{bad}/a_file"], 2, "is a file"),
    (["export", "{run}", "--out", "{tmp}/x", "--format", "bogus"], 2, "--format"),
    (["export", "{run}", "--out", "{bad}/a_file"], 2, "is a file"),
    (["shapes", "--model", "./no/such/model"], 2, "does not exist"),
]


@pytest.mark.parametrize(("args", "code", "text"), BAD_INPUTS, ids=lambda v: str(v)[:40])
def test_bad_input_table(
    krona, tiny_run, unknown_key_run, bad_files, tmp_path, monkeypatch, args, code, text
):
    monkeypatch.chdir(tmp_path)
    args = [
        a.format(bad=bad_files, run=tiny_run, tmp=tmp_path, unknown=unknown_key_run)
        if "{" in a
        else a
        for a in args
    ]
    if args[0] == "train" and len(args) > 1 and "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    got = krona(*args)
    lines = got.stderr.strip().splitlines()
    assert "Traceback" not in got.stderr and "Traceback" not in got.stdout
    assert len(lines) == 1, got.stderr
    assert lines[0].startswith("error: ") and text in lines[0], lines[0]
    assert got.returncode == code, got.stderr


def test_same_command_twice_gives_identical_files(krona, tiny_run):
    first = _files(tiny_run)
    assert "base/model.safetensors" in first and "checkpoints/latest" in first
    assert krona(*TINY_RUN, "--out", str(tiny_run), "--overwrite").returncode == 0
    second = _files(tiny_run)
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, differ


def test_random_base_is_saved_and_eval_sees_the_trained_model(krona, tiny_run):
    import json

    from papershelf.models import load_model
    from safetensors.torch import load_file

    meta = json.loads((tiny_run / "krona_train.json").read_text())
    assert meta["base_dir"] == "base"
    ev = krona("eval", str(tiny_run))
    assert ev.returncode == 0, ev.stderr
    m = meta["eval"]
    assert ev.stdout.startswith(f"accuracy {m['accuracy']:.4f}  nll {m['nll']:.4f}")
    saved = load_file(tiny_run / "base" / "model.safetensors")
    fresh, _ = load_model("tiny-encoder")  # a new random draw: not the trained base
    key = next(k for k in saved if k.endswith("query.weight"))
    assert not torch.equal(saved[key], fresh.state_dict()[key])


class SimulatedKill(Exception):
    pass


def test_killed_run_resumes_to_the_same_weights(krona, tiny_run, tmp_path, monkeypatch):
    from papershelf import train as train_module
    from safetensors.torch import load_file

    real = train_module._Checkpointing.on_step_end

    def killed_after_step_3(self, state):
        real(self, state)
        if state.step == 3:  # the process dies here (typer turns a Ctrl-C into a silent exit 0)
            raise SimulatedKill("killed after step 3")

    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(train_module._Checkpointing, "on_step_end", killed_after_step_3)
        got = krona(*TINY_RUN, "--out", str(out))
    assert got.returncode == 1 and "killed after step 3" in got.stderr, got.stderr
    assert (out / "checkpoints" / "latest").read_text().strip() == "checkpoint-2"
    assert not (out / "adapter_model.safetensors").exists()
    started: list[int] = []
    with monkeypatch.context() as m:
        m.setattr(
            train_module._Checkpointing,
            "on_step_start",
            lambda self, st: started.append(st.step),
            raising=False,
        )
        assert krona(*TINY_RUN, "--out", str(out)).returncode == 0  # the same command resumes
    assert started == [2, 3, 4]  # from checkpoint-2, not from scratch
    resumed = load_file(out / "adapter_model.safetensors")
    straight = load_file(tiny_run / "adapter_model.safetensors")
    assert resumed.keys() == straight.keys()
    for key in straight:
        assert torch.equal(resumed[key], straight[key]), key
