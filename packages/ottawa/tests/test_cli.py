import json
import subprocess
import sys

import pytest



def _run(*args, timeout=300):
    code = "from ottawa.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout)


def test_help_is_fast_and_lists_commands():
    r = _run("--help", timeout=60)
    assert r.returncode == 0
    for cmd in ("align", "score", "evaluate", "reproduce", "bench"):
        assert cmd in r.stdout


@pytest.mark.parametrize(
    ("src", "mt", "extra", "message"),
    [
        ("a b\nc d\ne f\n", "a b\nc d\n", [], "first mismatch at line 3"),
        ("a b\n\nc d\n", "a b\nx\nc d\n", [], "src.txt:2: empty line"),
        ("a b\n", "a b\n", ["--reg", "-1"], "reg"),
        ("a b\n", "a b\n", ["--encoder", "no-such-org/no-such-model"], "--encoder offline"),
    ],
)
def test_bad_input_is_one_line(tmp_path, monkeypatch, src, mt, extra, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "src.txt").write_text(src)
    (tmp_path / "mt.txt").write_text(mt)
    r = _run("align", str(tmp_path / "src.txt"), str(tmp_path / "mt.txt"), "--out", str(tmp_path / "o"), *extra)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_evaluate_needs_one_source():
    r = _run("evaluate")
    assert r.returncode == 2 and "exactly one of --halomi" in r.stderr


def test_align_writes_jsonl_and_plot(tmp_path):
    (tmp_path / "s.txt").write_text("the cat sat on the mat today\nthe dog ran across the field\n")
    (tmp_path / "m.txt").write_text("the cat sat on the mat\nthe dog ran quickly across the green field\n")
    out = tmp_path / "o"
    r = _run("align", str(tmp_path / "s.txt"), str(tmp_path / "m.txt"), "--out", str(out), "--plot", "1")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in (out / "alignments.jsonl").read_text().splitlines()]
    assert len(recs) == 2 and recs[0]["omi"] > 0 and recs[1]["hall"] > recs[0]["hall"] - 1
    assert (out / "pair_1.png").stat().st_size > 0
    assert json.loads((out / "config.json").read_text())["reg"] == 0.05
