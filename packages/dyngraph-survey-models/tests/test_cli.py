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
        ("a,b\n0,1\n", [], "missing the source column"),
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


GOOD = "src,dst,t\n0,1,1\n1,2,2\n2,0,3\n0,2,4\n1,0,5\n2,1,6\n"

# (id, file text, extra CLI args after "<cmd> --data FILE", expected fragment); "{f}" = the file
CASES = [
    ("time-order", "src,dst,t\n0,1,2\n1,0,1\n", ["train"], "ev.csv:3: events out of time order"),
    ("missing-cols", "a,b\n0,1\n", ["train", "--format", "csv"], "missing column(s) src, dst, t"),
    ("unknown-model", GOOD, ["train", "--model", "gcn"], "model: must be one of"),
    ("id-huge", "src,dst,t\n0,99999999999,1\n", ["train"], "ev.csv:2: node id must be <"),
    ("id-negative", "src,dst,t\n0,-3,1\n", ["train"], "ev.csv:2: node ids must be >= 0"),
    ("id-not-int", "src,dst,t\n0,1.5,1\n", ["train"], "ev.csv:2: dst must be an integer"),
    ("time-nan", "src,dst,t\n0,1,nan\n", ["train"], "ev.csv:2: t must be finite"),
    ("time-negative", "src,dst,t\n0,1,-4\n", ["train"], "ev.csv:2: t must be >= 0"),
    ("row-width", "src,dst,t\n0,1,1\n0,1,2,7\n", ["train"], "ev.csv:3: expected 3 fields"),
    (
        "jodie-short-row",
        "user,item,timestamp,state_label\n0,1,1,0\n0,1\n",
        ["train"],
        "ev.csv:3: expected at least 3 fields",
    ),
    (
        "jodie-features",
        "user,item,timestamp,state_label,f\n0,1,1,0,0.5\n0,1,2,0\n",
        ["train"],
        "ev.csv:3: expected 1 features",
    ),
    (
        "dyglib-cols",
        ",u,i,ts\n0,1,2,1\n",
        ["train", "--format", "dyglib"],
        "missing column(s) label, idx",
    ),
    (
        "tgb-no-time",
        "source,destination\na,b\n",
        ["train", "--format", "tgb"],
        "missing the timestamp column",
    ),
    (
        "tgb-time-order",
        "ts,src,dst\n5,a,b\n3,b,c\n",
        ["train", "--format", "tgb"],
        "ev.csv:3: events out of time order",
    ),
    ("empty-file", "", ["train"], "empty file"),
    ("header-only", "src,dst,t\n", ["train"], "no events after the header"),
    ("bad-format", GOOD, ["train", "--format", "parquet"], "format: must be one of"),
    ("epochs", GOOD, ["train", "--epochs", "-1"], "epochs"),
    ("batch-size", GOOD, ["train", "--batch-size", "0"], "batch_size"),
    ("empty-split", "src,dst,t\n0,1,1\n1,2,1\n2,0,1\n0,2,1\n", ["train"], "part has no events"),
    ("out-is-file", GOOD, ["train", "--out", "{f}"], "is a file"),
    ("k-zero", GOOD, ["evaluate", "--checkpoint", "/nonexistent", "--k", "0"], "k: must be"),
    (
        "negatives",
        GOOD,
        ["evaluate", "--checkpoint", "/nonexistent", "--negatives", "hard"],
        "negatives: must be one of",
    ),
    (
        "split",
        GOOD,
        ["evaluate", "--checkpoint", "/nonexistent", "--split", "train"],
        "split: must be one of",
    ),
    ("no-checkpoint", GOOD, ["evaluate", "--checkpoint", "/nonexistent"], "is not a folder"),
]


@pytest.mark.parametrize(
    ("text", "args", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_one_line(tmp_path, monkeypatch, capsys, text, args, message):
    from dyngraph_survey_models.cli import main

    ev = tmp_path / "ev.csv"
    ev.write_text(text)
    cmd, *rest = args
    rest = [str(ev) if a == "{f}" else a for a in rest]
    argv = ["dyngraph", cmd, "--data", str(ev), *rest]
    if cmd == "train" and "--out" not in rest:
        argv += (
            ["--out", str(tmp_path / "run"), "--epochs", "1"]
            if "--epochs" not in rest
            else ["--out", str(tmp_path / "run")]
        )
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], err


def test_at_least_fifteen_cases():
    assert len(CASES) >= 15
