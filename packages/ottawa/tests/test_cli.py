import json
import subprocess
import sys

import pytest
from ottawa import cli, workflow


def test_help_is_fast_and_lists_commands():
    code = "import sys; from ottawa.cli import main; main(); "
    r = subprocess.run(
        [sys.executable, "-c", code, "--help"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0
    for cmd in ("align", "score", "evaluate", "reproduce", "bench"):
        assert cmd in r.stdout
    r = subprocess.run(
        [sys.executable, "-c", "import sys, ottawa.cli; print('torch' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.stdout.strip() == "False"


def _main(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["ottawa", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    return exc.value.code, capsys.readouterr()


@pytest.mark.parametrize(
    ("src", "mt", "extra", "message"),
    [
        ("a b\nc d\ne f\n", "a b\nc d\n", [], "first mismatch at line 3"),
        ("a b\n\nc d\n", "a b\nx\nc d\n", [], "src.txt:2: empty line"),
        ("a b\n", "a b\n", ["--reg", "-1"], "reg"),
        ("a b\n", "a b\n", ["--plot", "5"], "--plot: pair 5 does not exist"),
        ("a b\n", "a b\n", ["--encoder", "no-such-org/no-such-model"], "--encoder offline"),
    ],
)
def test_bad_input_is_one_line(tmp_path, monkeypatch, capsys, src, mt, extra, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "src.txt").write_text(src)
    (tmp_path / "mt.txt").write_text(mt)
    code, out = _main(
        monkeypatch,
        capsys,
        "align",
        str(tmp_path / "src.txt"),
        str(tmp_path / "mt.txt"),
        "--out",
        str(tmp_path / "o"),
        *extra,
    )
    assert code == 2
    assert out.err.startswith("error: ") and message in out.err
    assert len(out.err.strip().splitlines()) == 1


def test_evaluate_needs_one_source(monkeypatch, capsys):
    code, out = _main(monkeypatch, capsys, "evaluate")
    assert code == 2 and "exactly one of --halomi" in out.err
    code, out = _main(monkeypatch, capsys, "evaluate", "--synthetic", "--methods", "bogus")
    assert code == 2 and "--methods" in out.err


@pytest.fixture
def shared_encoder(monkeypatch, encoder):
    monkeypatch.setattr(workflow, "load_encoder", lambda *a, **k: encoder)


def test_align_writes_jsonl_and_plot(tmp_path, monkeypatch, capsys, shared_encoder):
    (tmp_path / "s.txt").write_text("the cat sat on the mat today\nthe dog ran across the field\n")
    (tmp_path / "m.txt").write_text(
        "the cat sat on the mat\nthe dog ran quickly across the green field\n"
    )
    out = tmp_path / "o"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "ottawa",
            "align",
            str(tmp_path / "s.txt"),
            str(tmp_path / "m.txt"),
            "--out",
            str(out),
            "--plot",
            "1",
        ],
    )
    cli.main()
    recs = [json.loads(x) for x in (out / "alignments.jsonl").read_text().splitlines()]
    assert len(recs) == 2
    assert recs[0]["omi"] == pytest.approx(1 / 7)  # "today" has no counterpart
    assert recs[0]["src_words"][max(range(7), key=lambda k: recs[0]["omi_words"][k])] == "today"
    assert (out / "pair_1.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "config.json").read_text())["reg"] == 0.05


def test_score_and_synthetic_evaluate(tmp_path, monkeypatch, capsys, shared_encoder):
    (tmp_path / "s.txt").write_text("the cat sat on the mat\n")
    (tmp_path / "m.txt").write_text("the cat sat on the mat\n")
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "ottawa",
            "score",
            str(tmp_path / "s.txt"),
            str(tmp_path / "m.txt"),
            "--method",
            "argmax",
            "--out",
            str(tmp_path),
        ],
    )
    cli.main()
    assert (tmp_path / "scores.tsv").read_text().splitlines()[1] == "1\t0.000000\t0.000000"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "ottawa",
            "evaluate",
            "--synthetic",
            "--n",
            "4",
            "--methods",
            "ottawa,cosine",
            "--out",
            str(tmp_path),
        ],
    )
    cli.main()
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report) == {"ottawa", "cosine"}
    assert 0 <= report["ottawa"]["sentence"]["mean"]["hall"] <= 1
    assert "word" in report["ottawa"] and "pair-AUC" in capsys.readouterr().out


def test_evaluate_on_a_user_halomi_copy(tmp_path, monkeypatch, capsys, shared_encoder):
    header = "src_lang\ttgt_lang\tsrc_text\tmt_text\tomit_spans\thall_spans\tclass_hall\tclass_omit\tdata_source"
    rows = [
        ("the cat sat on the mat", "the cat sat on the mat", "1_No_hallucination", "1_No_omission"),
        (
            "the dog ran home",
            "the dog ran home fast <<<to the moon>>>",
            "3_Partial",
            "1_No_omission",
        ),
        ("<<<the old farmer>>> sold a horse", "sold a horse", "1_No_hallucination", "3_Partial"),
    ]
    lines = [header]
    for src, mt, h, o in rows:
        plain_src, plain_mt = (
            src.replace("<<<", "").replace(">>>", ""),
            mt.replace("<<<", "").replace(">>>", ""),
        )
        lines.append(
            "\t".join(["eng_Latn", "deu_Latn", plain_src, plain_mt, src, mt, h, o, "flores"])
        )
    (tmp_path / "halomi_core.tsv").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "ottawa",
            "evaluate",
            "--halomi",
            str(tmp_path),
            "--methods",
            "ottawa",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    cli.main()
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert list(report["ottawa"]["sentence"]["per_direction"]) == ["eng_Latn-deu_Latn"]
    assert "LaBSE cosine 0.78/0.72" in capsys.readouterr().out
