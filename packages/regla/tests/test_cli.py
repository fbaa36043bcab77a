"""The console script, in process: bad input is one line on stderr with exit code 2."""

import pytest
from papershelf.testing import run_console_script
from regla.cli import main

BAD = [
    (["train", "--out", "{tmp}/r", "--hidden", "10", "--heads", "3"], "num_heads"),
    (["train", "--out", "{tmp}/r", "--feature-map", "cos"], "feature_map"),
    (["train", "--out", "{tmp}/r", "--gate", "lstm"], "gate"),
    (["train", "--out", "{tmp}/r", "--chunk-size", "0"], "chunk_size"),
    (["linearize", "{tmp}/missing", "--out", "{tmp}/o"], "does not exist"),
    (["generate", "{tmp}/missing"], "run"),
    (["generate", "{tmp}", "--prompt-ids", "a,b"], "prompt-ids"),
]


def _run(monkeypatch, capsys, args):
    return run_console_script(main, "regla", args, monkeypatch, capsys)


@pytest.mark.parametrize("args,needle", BAD)
def test_bad_input_is_one_line(tmp_path, monkeypatch, capsys, args, needle):
    code, _, err = _run(monkeypatch, capsys, [a.format(tmp=tmp_path) for a in args])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and needle in lines[0], err


def test_train_then_generate(tmp_path, monkeypatch, capsys):
    run = str(tmp_path / "run")
    args = [
        "train",
        "--out",
        run,
        "--steps",
        "2",
        "--hidden",
        "16",
        "--batch-size",
        "2",
        "--seq-len",
        "40",
        "--hybrid",
        "alternate",
    ]
    code, out, err = _run(monkeypatch, capsys, args)
    assert code == 0, err
    code, out, err = _run(
        monkeypatch, capsys, ["generate", run, "--prompt-ids", "1,2", "--max-new", "3"]
    )
    assert code == 0 and len(out.strip().split(",")) == 5, err
