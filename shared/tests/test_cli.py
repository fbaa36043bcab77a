import subprocess
import sys
import time

import pytest
from papershelf import cli
from papershelf.errors import RunFailed, UserError


def test_help_answers_in_under_a_second():
    times = []
    for _ in range(3):  # the best of three, so a busy machine does not decide
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "papershelf", "--help"],
            check=True,
            capture_output=True,
            text=True,
        )
        times.append(time.perf_counter() - start)
    assert min(times) < 1.0, times
    assert "reproduce" in done.stdout and "bench" in done.stdout


def test_importing_papershelf_and_its_cli_imports_no_heavy_library():
    code = (
        "import sys, papershelf, papershelf.cli, papershelf.repro, papershelf.registry, papershelf.bench; "
        "heavy = [m for m in ('torch', 'transformers', 'matplotlib', 'accelerate') if m in sys.modules]; "
        "print(heavy); sys.exit(bool(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def _app_raising(exc):
    app = cli.make_app("toy", help="toy")

    @app.command()
    def go() -> None:
        raise exc

    return app


@pytest.mark.parametrize(
    "exc", [UserError("rank: must be in 1..8, got 9"), FileNotFoundError("data: no such file")]
)
def test_user_errors_are_one_line(monkeypatch, capsys, exc):
    monkeypatch.setattr(sys, "argv", ["toy", "go"])
    with pytest.raises(SystemExit) as info:
        cli.run_app(_app_raising(exc))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


def test_bugs_are_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.delenv("PAPERSHELF_TRACEBACK", raising=False)
    monkeypatch.setattr(sys, "argv", ["toy", "go"])
    with pytest.raises(SystemExit) as info:
        cli.run_app(_app_raising(ZeroDivisionError("oops")))
    err = capsys.readouterr().err
    assert info.value.code == 1 and err.count("\n") == 1
    assert err.startswith("error: unexpected ZeroDivisionError: oops") and "--debug" in err
    monkeypatch.setattr(sys, "argv", ["toy", "--debug", "go"])
    with pytest.raises(ZeroDivisionError):
        cli.run_app(_app_raising(ZeroDivisionError()))


@pytest.mark.parametrize(
    ("exc", "status", "start"),
    [
        (RunFailed("2 claim(s) failed"), 1, "error: 2 claim(s) failed"),
        (PermissionError(13, "Permission denied", "/ro/out"), 1, "error: /ro/out: Permission"),
        (MemoryError(), 1, "error: out of memory"),
        (KeyError("rank"), 2, "error: 'rank'"),
    ],
)
def test_exit_status_tells_bad_input_from_a_failed_run(monkeypatch, capsys, exc, status, start):
    monkeypatch.delenv("PAPERSHELF_TRACEBACK", raising=False)
    monkeypatch.setattr(sys, "argv", ["toy", "go"])
    with pytest.raises(SystemExit) as info:
        cli.run_app(_app_raising(exc))
    err = capsys.readouterr().err
    assert info.value.code == status and err.startswith(start) and err.count("\n") == 1


def test_bare_command_prints_help(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["papershelf"])
    with pytest.raises(SystemExit) as info:
        cli.run_app(cli.app)
    out = capsys.readouterr().out
    assert info.value.code == 0 and out.startswith("Usage: papershelf") and "reproduce" in out


@pytest.mark.parametrize("device", ["bogus", "cuda:7", "tpu"])
def test_reproduce_refuses_a_device_it_cannot_use(device):
    import torch

    if device == "cuda:7" and torch.cuda.device_count() > 7:
        pytest.skip("this machine has 8 GPUs")
    with pytest.raises(UserError, match=r"^device: "):
        cli.check_device(device)


def test_package_app_has_reproduce_and_bench(toy_paper, monkeypatch, tmp_path):
    from papershelf import registry
    from typer.testing import CliRunner

    monkeypatch.setattr(registry, "discover", lambda: {"toy": toy_paper})
    app = cli.make_app("toy", help="toy")
    runner = CliRunner()
    assert runner.invoke(app, ["--help"]).exit_code == 0
    result = runner.invoke(app, ["reproduce", "--claim", "good", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results.json").is_file()
    result = runner.invoke(app, ["reproduce", "--out", str(tmp_path)])
    assert isinstance(result.exception, RunFailed) and "broken, raises" in str(result.exception)
    assert runner.invoke(app, ["bench"]).output.strip() == "toy: no benchmark"


def test_unknown_paper_via_umbrella_cli(monkeypatch):
    from papershelf import registry

    monkeypatch.setattr(registry, "discover", lambda: {})
    with pytest.raises(UserError, match="not installed"):
        cli.run_reproduce(["nope"], quick=True, out=None, seed=0, claims=None, device="cpu")


def test_commands_follow_the_thread_policy(monkeypatch, capsys):
    import os

    seen = {}
    app = cli.make_app("toy", help="toy")

    @app.command()
    def go() -> None:
        seen["omp"] = os.environ.get("OMP_NUM_THREADS")

    monkeypatch.setattr(sys, "argv", ["toy", "go"])
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("PAPERSHELF_THREADS", "1")
    cli.run_app(app)
    assert seen["omp"] == "1"
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("PAPERSHELF_THREADS", "lots")
    with pytest.raises(SystemExit) as info:
        cli.run_app(app)
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("error: PAPERSHELF_THREADS: must be a whole number")


@pytest.mark.parametrize("argv", [["toy", "go", "--nope"], ["toy", "nothing"], ["toy", "go", "x"]])
def test_usage_errors_are_one_line(monkeypatch, capsys, argv):
    app = cli.make_app("toy", help="toy")

    @app.command()
    def go() -> None: ...

    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as info:
        cli.run_app(app)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "--help" in err


@pytest.fixture
def umbrella_files(toy_paper, tmp_path):
    from papershelf.report import END, START
    from papershelf.repro import reproduce

    reproduce([toy_paper], out=tmp_path / "run", claims=["good"])
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "plain.md").write_text("no block\n")
    (tmp_path / "stale.md").write_text(f"{START}\nold\n{END}\n")
    (tmp_path / "a_file").write_text("")
    return tmp_path


BAD_UMBRELLA_INPUTS = [
    (["reproduce", "--seed", "abc"], 2, "Invalid value for '--seed'"),
    (["reproduce", "nope"], 2, "nope"),
    (["reproduce", "--bogus"], 2, "No such option"),
    (["reproduce", "--claim"], 2, "requires an argument"),
    (["reproduce", "--claim", "missing"], 2, "claim: 'missing' is not a claim"),
    (["reproduce", "--device", "bogus"], 2, "device: "),
    (["reproduce", "--out", "{tmp}/a_file"], 2, "is a file"),
    (["bench", "nope"], 2, "nope"),
    (["list", "extra"], 2, "unexpected extra argument"),
    (["nosuchcommand"], 2, "No such command"),
    (["report"], 2, "Missing argument"),
    (["report", "{tmp}/missing.json"], 2, "does not exist"),
    (["report", "{tmp}/bad.json"], 2, "not a papershelf results file"),
    (["report", "{tmp}/run/results.json", "--readme", "{tmp}/none.md"], 2, "does not exist"),
    (["report", "{tmp}/run/results.json", "--readme", "{tmp}/plain.md"], 2, "no results block"),
    (
        ["report", "{tmp}/run/results.json", "--readme", "{tmp}/stale.md", "--paper", "x"],
        2,
        "paper: 'x'",
    ),
    (
        ["report", "{tmp}/run/results.json", "--readme", "{tmp}/stale.md", "--check"],
        1,
        "out of date",
    ),
]


@pytest.mark.parametrize(("args", "status", "message"), BAD_UMBRELLA_INPUTS)
def test_umbrella_cli_refuses_bad_input_in_one_line(
    monkeypatch, capsys, toy_paper, umbrella_files, args, status, message
):
    from papershelf import registry

    monkeypatch.setattr(registry, "discover", lambda: {"toy": toy_paper})
    monkeypatch.delenv("PAPERSHELF_TRACEBACK", raising=False)
    argv = [a.replace("{tmp}", str(umbrella_files)) for a in args]
    monkeypatch.setattr(sys, "argv", ["papershelf", *argv])
    with pytest.raises(SystemExit) as info:
        cli.run_app(cli.app)
    err = capsys.readouterr().err
    assert info.value.code == status, err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert message in err


def test_ctrl_c_says_how_to_resume(monkeypatch, capsys):
    app = cli.make_app("toy", help="toy")

    @app.command()
    def go() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sys, "argv", ["toy", "go"])
    with pytest.raises(SystemExit) as info:
        cli.run_app(app)
    assert info.value.code == 130
    assert capsys.readouterr().err.startswith("error: interrupted; rerun the same command")
