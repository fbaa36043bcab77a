from papershelf import cli
from papershelf.testing import run_console_script


def test_run_console_script_returns_status_and_streams(monkeypatch, capsys):
    app = cli.make_app("toy", help="toy")

    @app.command()
    def hello(name: str) -> None:
        print(f"hi {name}")

    def main() -> None:
        cli.run_app(app)

    assert run_console_script(main, "toy", ["hello", "x"], monkeypatch, capsys) == (0, "hi x\n", "")
    code, out, err = run_console_script(main, "toy", ["hello"], monkeypatch, capsys)
    assert code == 2 and out == "" and err.startswith("error: Missing argument")
