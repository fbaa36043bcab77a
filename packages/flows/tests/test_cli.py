"""The console script: --help is fast and light; fit -> sample -> logprob end to end; errors."""

from __future__ import annotations

import subprocess
import sys
import time

import torch
from flows.data import read_csv, rotated_t2, write_csv


def _flows(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from flows.cli import main; sys.argv = ['flows', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300
    )


def test_help_is_fast_and_does_not_import_torch():
    start = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, flows.cli, flows.paper, flows; print('torch' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "False", out.stderr
    res = _flows("--help")
    assert res.returncode == 0 and "fit" in res.stdout and "reproduce" in res.stdout
    assert time.perf_counter() - start < 30


def test_fit_sample_logprob_roundtrip(tmp_path):
    data = tmp_path / "t2.csv"
    write_csv(data, rotated_t2(600, torch.Generator().manual_seed(0)), ["a", "b"])
    run = tmp_path / "run"
    res = _flows(
        "fit",
        str(data),
        "--base",
        "student-t",
        "--transforms",
        "2",
        "--hidden",
        "8,8",
        "--steps",
        "30",
        "--batch",
        "128",
        "--out",
        str(run),
    )
    assert res.returncode == 0, res.stderr
    assert (run / "model.safetensors").is_file() and (run / "model_config.json").is_file()
    assert (run / "density.png").is_file() and "degrees of freedom" in res.stdout
    res = _flows("sample", str(run), "-n", "50", "--out", str(tmp_path / "s.csv"))
    assert res.returncode == 0, res.stderr
    samples = read_csv(tmp_path / "s.csv")
    assert samples.shape == (50, 2)
    res = _flows("logprob", str(run), str(tmp_path / "s.csv"), "--out", str(tmp_path / "lp.csv"))
    assert res.returncode == 0, res.stderr
    lp = read_csv(tmp_path / "lp.csv")
    assert lp.shape == (50, 1) and torch.isfinite(lp).all()
    res = _flows("tails", str(data), "--k", "20")
    assert res.returncode == 0 and "column 2: nu =" in res.stdout


def test_cli_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,nan\n")
    res = _flows("fit", str(bad), "--steps", "1")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"error: data: {bad}:2: column 2 is nan (NaN/inf not allowed)"
    ]
    good = tmp_path / "g.csv"
    write_csv(good, torch.randn(50, 3))
    res = _flows("fit", str(good), "--arch", "gresflow", "--group", "C4", "--steps", "1")
    assert res.returncode == 2 and "features must be even" in res.stderr
    res = _flows("sample", str(tmp_path / "nowhere"))
    assert res.returncode == 2 and "error: model:" in res.stderr
