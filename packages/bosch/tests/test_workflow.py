"""search / apply / evaluate as library calls on a saved tiny model."""

import json

import pytest
from bosch.config import BoschConfig
from bosch.mask import HeadMask
from bosch.testing import make_model_dir
from bosch.workflow import apply_mask, evaluate_mask, load_model_dir, load_probe_data, run_search
from papershelf.errors import UserError


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("tiny"))


def test_search_apply_evaluate(model_dir, tmp_path):
    folder, probe = model_dir
    out = tmp_path / "run"
    summary = run_search(folder, probe, BoschConfig(ratio=0.5, window=4), out)
    assert summary["s_full"] == 1.0 and summary["s_swa"] < 1.0
    mask = HeadMask.from_json(out / "mask.json")
    assert mask.count == 2 and (out / "history.jsonl").is_file()
    # same command twice -> identical files
    again = tmp_path / "again"
    run_search(folder, probe, BoschConfig(ratio=0.5, window=4), again)
    for name in ("mask.json", "history.jsonl", "summary.json"):
        assert (again / name).read_bytes() == (out / name).read_bytes()
    # resume: an existing history is reused and gives the same mask
    lines = (out / "history.jsonl").read_text().splitlines()
    (out / "history.jsonl").write_text("\n".join(lines[:3]) + "\n{broken")
    resumed = run_search(folder, probe, BoschConfig(ratio=0.5, window=4), out)
    assert resumed["resumed_evaluations"] == 3 and resumed["mask"] == summary["mask"]
    patched = apply_mask(folder, out / "mask.json", tmp_path / "patched")
    model = load_model_dir(patched)
    assert model.hybrid_mask == mask and model.window == 4
    result = evaluate_mask(folder, out / "mask.json", probe)
    assert result["score"] == pytest.approx(summary["score"])
    assert result["kv_saving"] == pytest.approx(0.5 * (1 - 4 / 32))


def test_bad_inputs(model_dir, tmp_path):
    folder, probe = model_dir
    with pytest.raises(UserError, match=r"^window: must be < the context"):
        run_search(folder, probe, BoschConfig(ratio=0.5, window=64), tmp_path / "w")
    bad = tmp_path / "mask.json"
    HeadMask.zeros(3, 2).to_json(bad, window=4)
    with pytest.raises(UserError, match=r"^mask: shape must be"):
        apply_mask(folder, bad, tmp_path / "x")
    with pytest.raises(UserError, match=r"^mask: shape must be"):
        evaluate_mask(folder, bad, probe)
    with pytest.raises(UserError, match=r"^model_dir:"):
        load_model_dir(tmp_path / "missing")
    lines = tmp_path / "p.jsonl"
    lines.write_text(json.dumps({"input_ids": [1, 2, 3], "answer_start": 1}) + "\nnot json\n")
    with pytest.raises(UserError, match=r"p.jsonl:2"):
        load_probe_data(lines)
