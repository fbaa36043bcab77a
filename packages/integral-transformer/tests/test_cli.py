"""CLI: bad input as one line on stderr and exit code 2 (in process: fast), --help."""

import pytest
from integral_transformer.cli import main
from papershelf.testing import run_console_script


def _cli(monkeypatch, capsys, *args):
    return run_console_script(main, "integral-transformer", args, monkeypatch, capsys)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["train", "--signals", "3"], "num_signals: must divide head_dim 32"),
        (["train", "--signals", "0"], "num_signals: must be an integer >= 1"),
        (["train", "--signals", "32"], "even"),
        (["train", "--placement", "middle"], "placement: must be one of"),
        (["train", "--attention", "linear"], "attention: must be one of"),
        (["train", "--task", "copy"], "task: must be one of"),
        (["analyze", "/nonexistent/run"], "model_dir"),
    ],
)
def test_bad_input_one_line(monkeypatch, capsys, args, field):
    code, _, err = _cli(monkeypatch, capsys, *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], err


def test_help_lists_commands(monkeypatch, capsys):
    code, out, _ = _cli(monkeypatch, capsys, "--help")
    assert code == 0
    for cmd in ("train", "analyze", "reproduce", "bench"):
        assert cmd in out
