import json
import subprocess
import sys
import time

import pytest
from dyngraph_survey_models.cli import app
from typer.testing import CliRunner


def test_help_is_fast():
    start = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv=['dyngraph','--help']; from dyngraph_survey_models.cli import main; main()",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "train" in out.stdout and "reproduce" in out.stdout
    assert (
        time.perf_counter() - start < 10
    )  # generous: the CI box is shared; no torch import happens
    probe = "import sys, dyngraph_survey_models.cli, dyngraph_survey_models.paper; print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip()
        == "False"
    )


def test_generate_train_evaluate(tmp_path):
    r = CliRunner()
    ev = tmp_path / "ev.csv"
    res = r.invoke(app, ["generate", "drifting", "--events", "800", "--out", str(ev)])
    assert res.exit_code == 0, res.output
    ck = tmp_path / "ck"
    res = r.invoke(
        app,
        [
            "train",
            "--model",
            "jodie",
            "--data",
            str(ev),
            "--epochs",
            "1",
            "--out",
            str(ck),
            "--bipartite",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (ck / "model.safetensors").is_file() and (ck / "model_config.json").is_file()
    cfg = json.loads((ck / "model_config.json").read_text())
    assert cfg["model"] == "jodie" and cfg["bipartite"]
    res = r.invoke(app, ["evaluate", "--checkpoint", str(ck), "--data", str(ev), "--k", "5"])
    assert res.exit_code == 0, res.output
    m1 = json.loads(res.output)
    res = r.invoke(app, ["evaluate", "--checkpoint", str(ck), "--data", str(ev), "--k", "5"])
    assert json.loads(res.output) == m1  # reload -> identical scores
    assert 0 <= m1["ap"] <= 1


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("src,dst,t\n0,1,2\n1,0,1\n", [], "ev.csv:3: events out of time order"),
        ("a,b\n0,1\n", [], "missing column(s) src, dst, t"),
        ("src,dst,t\n0,1,1\n", ["--model", "gcn"], "model: must be one of 'tgn', 'jodie'"),
    ],
)
def test_bad_input_one_line(tmp_path, monkeypatch, capsys, text, args, message):
    from dyngraph_survey_models.cli import main

    ev = tmp_path / "ev.csv"
    ev.write_text(text)
    monkeypatch.setattr(sys, "argv", ["dyngraph", "train", "--data", str(ev), *args])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], err
