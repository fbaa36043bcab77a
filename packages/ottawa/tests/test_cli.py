import json
import os
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


# --- table-driven bad inputs: one line on stderr, no traceback, exit code 2 (issue 27) ---

GOOD = "the cat sat\nthe dog ran\n"
HALOMI_HEADER = "src_lang\ttgt_lang\tsrc_text\tmt_text\tomit_spans\thall_spans\tclass_hall\tclass_omit\tdata_source"
HALOMI_ROW = "eng_Latn\tdeu_Latn\ta b\ta b\ta b\ta b\t1_No\t1_No\tflores"


def _files(tmp_path, src=GOOD, mt=GOOD):
    for name, text in (("src.txt", src), ("mt.txt", mt)):
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (tmp_path / name).write_bytes(data)
    return [str(tmp_path / "src.txt"), str(tmp_path / "mt.txt")]


def _align(tmp_path, *extra, src=GOOD, mt=GOOD):
    return ["align", *_files(tmp_path, src, mt), "--out", str(tmp_path / "o"), *extra]


def _score(tmp_path, *extra, src=GOOD, mt=GOOD):
    return ["score", *_files(tmp_path, src, mt), "--out", str(tmp_path / "o"), *extra]


def _halomi(tmp_path, *rows):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "halomi_core.tsv").write_text("\n".join([HALOMI_HEADER, *rows]) + "\n")
    return ["evaluate", "--halomi", str(tmp_path / "h")]


def _out_is_file(tmp_path):
    (tmp_path / "taken").write_text("x")
    return ["score", *_files(tmp_path), "--out", str(tmp_path / "taken")]


def _out_under_file(tmp_path):
    (tmp_path / "taken").write_text("x")
    return ["score", *_files(tmp_path), "--out", str(tmp_path / "taken" / "sub")]


CASES = {
    "line counts differ": (lambda t: _align(t, mt="a b\n"), "first mismatch at line 2"),
    "empty line": (lambda t: _align(t, src="a b\n\n", mt="a b\nc\n"), "src.txt:2: empty line"),
    "blank line of spaces": (lambda t: _align(t, mt="a b\n  \n"), "mt.txt:2: empty line"),
    "non-UTF-8 source": (lambda t: _align(t, src=b"a b\nc \xff d\n"), "src.txt:2: not UTF-8"),
    "missing source file": (
        lambda t: ["align", str(t / "nope.txt"), str(t / "nope2.txt")],
        "no such file",
    ),
    "negative reg": (lambda t: _align(t, "--reg", "-1"), "reg"),
    "NaN reg": (lambda t: _align(t, "--reg", "nan"), "reg"),
    "reg not a number": (lambda t: _align(t, "--reg", "abc"), "--reg"),
    "unknown option": (lambda t: _align(t, "--bogus", "3"), "--bogus"),
    "bad solver": (lambda t: _align(t, "--solver", "bogus"), "solver"),
    "plot out of range": (lambda t: _align(t, "--plot", "5"), "--plot: pair 5 does not exist"),
    "bad device": (lambda t: _score(t, "--device", "bogus"), "device: must be cpu"),
    "bad splitter": (lambda t: _score(t, "--splitter", "bogus"), "--splitter"),
    "bad method": (lambda t: _score(t, "--method", "bogus"), "--method"),
    "out is a file": (_out_is_file, "is a file"),
    "out below a file": (_out_under_file, "is a file"),
    "unloadable encoder": (
        lambda t: _score(t, "--encoder", "no-org/no-model"),
        "--encoder offline",
    ),
    "evaluate without data": (lambda t: ["evaluate"], "exactly one of --halomi"),
    "evaluate bad methods": (
        lambda t: ["evaluate", "--synthetic", "--methods", "bogus"],
        "--methods",
    ),
    "evaluate bad difficulty": (
        lambda t: ["evaluate", "--synthetic", "--difficulty", "x"],
        "--difficulty",
    ),
    "evaluate n = 0": (lambda t: ["evaluate", "--synthetic", "--n", "0"], "--n"),
    "halomi folder missing": (lambda t: ["evaluate", "--halomi", str(t / "none")], "not bundled"),
    "halomi malformed row": (
        lambda t: _halomi(t, HALOMI_ROW, "eng_Latn\tdeu_Latn\ta\tb"),
        "halomi_core.tsv:3: malformed row: 4 tab-separated fields",
    ),
    "halomi bad class": (
        lambda t: _halomi(t, HALOMI_ROW.replace("1_No\t1_No", "7_X\t1_No")),
        "class_hall",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_and_exit_2(case, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    make_args, message = CASES[case]
    monkeypatch.setattr(sys, "argv", ["ottawa", *make_args(tmp_path)])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    out = capsys.readouterr()
    assert exc.value.code == 2, (case, out.err)
    assert "Traceback" not in out.err + out.out
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
    assert not (tmp_path / "o" / "scores.tsv").exists()


def test_unicode_line_separator_stays_inside_its_line(tmp_path):
    from ottawa.files import read_pair_files

    src, mt = _files(tmp_path, "a\u2028b c\r\nd e\n", "x y\nz\u2029w\n")
    a, b = read_pair_files(src, mt)
    assert a == ["a\u2028b c", "d e"] and b == ["x y", "z\u2029w"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write a read-only folder")
def test_read_only_out_is_refused(tmp_path):
    from ottawa.files import check_out_dir

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(ValueError, match="not writable"):
        check_out_dir(ro / "sub")
