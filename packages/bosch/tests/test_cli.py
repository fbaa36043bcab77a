"""The bosch command: one-line errors with exit status 2, and the happy path."""

import json
import subprocess
import sys

import pytest
from bosch.cli import main
from bosch.mask import HeadMask
from bosch.testing import make_model_dir


def run_cli(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["bosch", *map(str, args)])
    with pytest.raises(SystemExit) as exc:
        main()
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("cli"))


def test_help_is_fast_and_lists_commands():
    out = subprocess.run(
        [sys.executable, "-c", "from bosch.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for cmd in ("search", "apply", "evaluate", "reproduce", "bench", "tiny"):
        assert cmd in out


@pytest.mark.parametrize(
    "extra,field",
    [
        (["--ratio", "1.5"], "ratio"),
        (["--ratio", "-0.5"], "ratio"),
        (["--window", "0"], "window"),
        (["--window", "500"], "window"),
    ],
)
def test_bad_search_input_is_one_line(monkeypatch, capsys, model_dir, tmp_path, extra, field):
    folder, probe = model_dir
    args = ["search", folder, "--probe-data", probe, "--out", tmp_path / "o", "--window", "4"]
    code, _, err = run_cli(monkeypatch, capsys, *args, *extra)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {field}:"), err


def test_wrong_shape_mask_is_one_line(monkeypatch, capsys, model_dir, tmp_path):
    folder, _ = model_dir
    bad = HeadMask.zeros(5, 2).to_json(tmp_path / "m.json", window=4)
    code, _, err = run_cli(
        monkeypatch, capsys, "apply", folder, "--mask", bad, "--out", tmp_path / "x"
    )
    assert code == 2 and err.startswith("error: mask: shape must be") and err.count("\n") == 1


def test_search_then_evaluate(monkeypatch, capsys, model_dir, tmp_path):
    folder, probe = model_dir
    out = tmp_path / "run"
    code, stdout, _ = run_cli(
        monkeypatch, capsys, "search", folder, "--ratio", "0.5", "--window", "4",
        "--probe-data", probe, "--out", out,
    )  # fmt: skip
    assert code == 0 and json.loads(stdout)["ratio"] == 0.5
    code, stdout, _ = run_cli(
        monkeypatch, capsys, "evaluate", folder, "--mask", out / "mask.json", "--probe-data", probe
    )
    assert code == 0 and 0 <= json.loads(stdout)["score"] <= 1
