"""The ``krona`` console script: fast --help, one-line errors, train -> eval -> merge."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest


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
        monkeypatch.setattr(sys, "argv", ["krona", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return _Out(code, out.out, out.err)

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
