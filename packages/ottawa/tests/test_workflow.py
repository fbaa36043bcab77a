import json

import pytest
from ottawa import workflow


@pytest.fixture
def shared_encoder(monkeypatch, encoder):
    monkeypatch.setattr(workflow, "load_encoder", lambda *a, **k: encoder)


def test_align_and_score_files_without_the_cli(tmp_path, shared_encoder):
    (tmp_path / "s.txt").write_text("the cat sat on the mat today\n")
    (tmp_path / "m.txt").write_text("the cat sat on the mat\n")
    written = workflow.align_files(tmp_path / "s.txt", tmp_path / "m.txt", tmp_path / "o")
    assert written.n_pairs == 1 and written.plot is None
    rec = json.loads(written.alignments.read_text())
    assert rec["omi"] == pytest.approx(1 / 7)
    assert json.loads(written.config.read_text())["encoder"] == "offline"
    path, n = workflow.score_files(
        tmp_path / "s.txt", tmp_path / "m.txt", tmp_path / "o", method="argmax"
    )
    assert n == 1 and path.read_text().splitlines()[0] == "line\thall\tomi"


def test_evaluate_refuses_bad_options_before_any_work():
    with pytest.raises(ValueError, match="exactly one of --halomi"):
        workflow.evaluate_methods(synthetic=False)
    with pytest.raises(ValueError, match="--methods: \\['bogus'\\]"):
        workflow.evaluate_methods(synthetic=True, methods="ottawa,bogus")
    with pytest.raises(ValueError, match="--method: 'bogus'"):
        workflow.score_files("s.txt", "m.txt", ".", method="bogus")
