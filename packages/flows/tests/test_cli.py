"""The console script: --help is fast and light; fit -> sample -> logprob end to end; a
table of bad inputs, each refused with one stderr line, no traceback and the right exit code."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import torch
from flows.data import read_csv, write_csv


def _flows(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from flows.cli import main; sys.argv = ['flows', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300
    )


def _cli(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """``flows ARGS`` in this process (as the console script runs it): status, stdout, stderr."""
    from flows.cli import main

    monkeypatch.setattr(sys, "argv", ["flows", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


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


def test_fit_sample_logprob_roundtrip(tmp_path, monkeypatch, capsys):
    """fit -> sample -> logprob -> tails through the CLI entry point (in this process)."""
    data = tmp_path / "t3.csv"  # 3-D: no density plot (workflow tests cover the 2-D plot)
    write_csv(data, torch.randn(300, 3, generator=torch.Generator().manual_seed(0)))
    run = tmp_path / "run"
    code, out, err = _cli(
        ["fit", str(data), "--base", "student-t", "--transforms", "2", "--hidden", "8,8",
         "--steps", "30", "--batch", "128", "--out", str(run)],
        monkeypatch, capsys,
    )  # fmt: skip
    assert code == 0, err
    assert (run / "model.safetensors").is_file() and (run / "model_config.json").is_file()
    assert "degrees of freedom" in out
    s_csv, lp_csv = str(tmp_path / "s.csv"), str(tmp_path / "lp.csv")
    code, _, err = _cli(["sample", str(run), "-n", "50", "--out", s_csv], monkeypatch, capsys)
    assert code == 0, err
    assert read_csv(s_csv).shape == (50, 3)
    code, _, err = _cli(["logprob", str(run), s_csv, "--out", lp_csv], monkeypatch, capsys)
    assert code == 0, err
    lp = read_csv(lp_csv)
    assert lp.shape == (50, 1) and torch.isfinite(lp).all()
    code, out, _ = _cli(["tails", str(data), "--k", "20"], monkeypatch, capsys)
    assert code == 0 and "column 3: nu =" in out


def test_a_real_process_prints_one_line_and_exits_2(tmp_path):
    res = _flows("sample", str(tmp_path / "nowhere"))
    assert res.returncode == 2 and res.stderr.startswith("error: model:")
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Good and bad data files and a tiny fitted run."""
    from flows.workflow import fit_csv

    root = tmp_path_factory.mktemp("cli")
    gen = torch.Generator().manual_seed(0)
    good = root / "good.csv"
    write_csv(good, torch.randn(64, 2, generator=gen), ["a", "b"])
    (root / "nan.csv").write_text("1,2\n3,nan\n")
    (root / "word.csv").write_text("a,b\n1,2\n3,x\n")
    (root / "latin1.csv").write_bytes(b"a,b\n1,2\n3,\xe94\n")
    x = torch.randn(50, 2, generator=gen)
    const = x.clone()
    const[:, 1] = 7.0
    write_csv(root / "const.csv", const)
    mostly = x.clone()
    mostly[:30, 0] = 1.5  # 60 % one value
    write_csv(root / "mostly.csv", mostly)
    three = root / "three.csv"
    write_csv(three, torch.randn(40, 3, generator=gen))
    (root / "a_file").write_text("not a folder\n")
    (root / "a_dir").mkdir()
    run = root / "run"
    fit_csv(good, transforms=1, hidden=(4,), steps=2, batch=32, out=run)
    for name, edit in {
        "unknown_key": lambda m: m.update(extra=1),
        "bad_scaler": lambda m: m["scaler"].update(center=[0.0, 0.0, 0.0]),
        "bad_features": lambda m: m["flow"].update(features=3),
    }.items():
        other = root / name
        other.mkdir()
        for f in run.iterdir():
            if f.is_file():
                (other / f.name).write_bytes(f.read_bytes())
        meta = json.loads((other / "model_config.json").read_text())
        edit(meta)
        (other / "model_config.json").write_text(json.dumps(meta))
    return root


FIT = ["fit", "{good}", "--steps", "2", "--transforms", "1", "--hidden", "4"]
BAD = [
    # (args, exit code, a fragment of the one stderr line)
    (["fit"], 2, "Missing argument"),
    (["fit", "{root}/nowhere.csv"], 2, "does not exist"),
    (["fit", "{root}/nan.csv", "--steps", "1"], 2, "nan.csv:2: column 2 is nan"),
    (["fit", "{root}/word.csv"], 2, "word.csv:3: non-numeric value 'x'"),
    (["fit", "{root}/latin1.csv"], 2, "latin1.csv:3: not UTF-8"),
    (["fit", "{root}/const.csv"], 2, "column 2 is constant"),
    (["fit", "{root}/mostly.csv"], 2, "column 1 has 60% of its rows equal to 1.5"),
    ([*FIT, "--out", "{root}/a_file"], 2, "is a file"),
    ([*FIT, "--out", "{root}/a_file/sub"], 2, "is a file"),
    ([*FIT[:2], "--steps", "abc"], 2, "Invalid value for '--steps'"),
    ([*FIT, "--arch", "bogus"], 2, "arch: must be one of"),
    ([*FIT, "--hidden", "0,4"], 2, "hidden:"),
    ([*FIT, "--lr", "-1"], 2, "lr:"),
    ([*FIT, "--bogus-option", "3"], 2, "No such option"),
    ([*FIT, "--overwrite", "--resume"], 2, "at most one of --overwrite and --resume"),
    ([*FIT, "--checkpoint-every", "-1"], 2, "checkpoint_every"),
    (["fit", "{root}/three.csv", "--arch", "gresflow", "--group", "C4"], 2, "features"),
    ([*FIT, "--group", "C4"], 2, "group: only"),
    ([*FIT, "--base", "student-t", "--df", "bogus"], 2, "df: must be one of"),
    (["fit", "{good}", "--out", "{root}/run", "--steps", "3"], 2, "steps: 2 -> 3"),
    (["sample", "{root}/nowhere"], 2, "model:"),
    (["sample", "{root}/run", "-n", "0"], 2, "n: must be an integer >= 1"),
    (["sample", "{root}/run", "-n", "100000000000"], 2, "GB, more than half of this machine"),
    (["sample", "{root}/run", "--out", "{root}/a_dir"], 2, "is a folder"),
    (["sample", "{root}/unknown_key"], 2, "unknown key(s) ['extra']"),
    (["sample", "{root}/bad_scaler"], 2, "scaler center has shape (3,)"),
    (["sample", "{root}/bad_features"], 2, "the config does not match the weights"),
    (["logprob", "{root}/run", "{root}/three.csv"], 2, "expected 2 columns, got 3"),
    (["tails", "{good}", "--k", "100000"], 2, "k: the Hill estimator needs"),
    (["reproduce", "--claim", "bogus", "--out", "{root}/r"], 2, "bogus"),
]


@pytest.mark.parametrize(("args", "status", "fragment"), BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_input_is_one_line_no_traceback_right_status(
    files, args, status, fragment, monkeypatch, capsys
):
    argv = [a.format(root=files, good=files / "good.csv") for a in args]
    code, _, err = _cli(argv, monkeypatch, capsys)
    lines = err.strip().splitlines()
    assert code == status, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "a bug" not in err
    assert fragment in lines[0], lines[0]


def test_fit_out_that_is_a_file_fails_before_training(files, monkeypatch, capsys):
    """The check runs before the data is even read: a missing data file is not reported."""
    code, _, err = _cli(
        ["fit", str(files / "nowhere.csv"), "--out", str(files / "a_file")], monkeypatch, capsys
    )
    assert code == 2 and "a_file is a file" in err


def test_mostly_repeated_column_fits_with_a_named_one_line_warning(files, monkeypatch, capsys):
    x = torch.randn(60, 2, generator=torch.Generator().manual_seed(3))
    x[:6, 1] = 0.25  # 10 %: under the refusal threshold, over the warning one
    write_csv(files / "atom.csv", x)
    argv = ["fit", str(files / "atom.csv"), "--steps", "2", "--transforms", "1", "--hidden", "4"]
    code, out, err = _cli([*argv, "--out", str(files / "atom_run")], monkeypatch, capsys)
    assert code == 0, err
    assert err.strip().splitlines() == [
        f"warning: data: {files / 'atom.csv'}: column 2 has 10% of its rows equal to 0.25; the "
        "fitted density has a spike there and its NLL is not meaningful "
        "(DegenerateColumnWarning)"
    ]
    assert "train NLL" in out
