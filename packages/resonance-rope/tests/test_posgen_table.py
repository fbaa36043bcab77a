"""The Table 1 comparison both PosGen claims run: aggregation over seeds, the rule, the plot
(training replaced by a stub; the real quick runs are the slow tests in test_claims.py)."""

from __future__ import annotations

import warnings

import pytest
from papershelf.registry import RunContext
from resonance_rope import posgen_runs
from resonance_rope.posgen_runs import RunResult
from resonance_rope.posgen_table import ROWS, posgen_claim


def fake_metrics(ood: float, id_acc: float = 0.9) -> dict:
    per_position = [None] * 5 + [id_acc] * 60 + [ood] * 192  # 257 positions, 5 never predicted
    return {
        "id_acc": id_acc,
        "ood_acc": ood,
        "acc_by_position": per_position,
        "acc_by_bucket": [(5, id_acc)],
    }


@pytest.fixture
def stub_runs(monkeypatch):
    calls = []

    def run_posgen(task, model_cfg, settings, *, resonance, data, device):
        calls.append((task.seed, settings.seed, settings.epochs, resonance, data["train"].shape))
        bonus = 0.1 * resonance + 0.01 * settings.seed
        name = "resonance" if resonance else "default"
        return RunResult(name, fake_metrics(0.4 + bonus), fake_metrics(0.6 + bonus)), None

    monkeypatch.setattr(posgen_runs, "run_posgen", run_posgen)
    return calls


def test_posgen_claim_aggregates_seeds_and_applies_the_rule(tmp_path, stub_runs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the plot skips never-predicted positions quietly
        result = posgen_claim("cot", RunContext(quick=True, seed=0, out=tmp_path))
    assert [c[:4] for c in stub_runs] == [(s, s, 8, r) for s in (0, 1, 2) for r in (False, True)]
    assert all(shape == (2000, 65) for *_, shape in stub_runs)
    table = result.details["table"]
    assert set(table) == set(ROWS)
    assert table["RoPE"]["ood_per_seed"] == pytest.approx([40, 41, 42])
    assert result.ours == pytest.approx(51) and result.baseline == pytest.approx(41)
    assert result.holds and result.details["resonance_yarn_minus_yarn"] == pytest.approx(10)
    assert result.config["steps"] == 8 * 32 and result.config["seeds"] == [0, 1, 2]
    assert "did not learn" not in result.note
    assert (tmp_path / result.plots[0]).is_file()


def test_posgen_claim_is_inconclusive_when_models_did_not_learn(tmp_path, monkeypatch):
    def run_posgen(task, model_cfg, settings, *, resonance, data, device):
        return RunResult("x", fake_metrics(0.1, id_acc=0.1), fake_metrics(0.1, id_acc=0.1)), None

    monkeypatch.setattr(posgen_runs, "run_posgen", run_posgen)
    result = posgen_claim("semi_recursive", RunContext(quick=True, seed=0, out=tmp_path))
    assert "did not learn the task" in result.note
    assert result.holds is None  # inconclusive: the precondition failed, not "no"
