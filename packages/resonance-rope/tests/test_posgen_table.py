"""The PosGen claims' rule: the precondition (>= 90 % in-distribution accuracy, a quick run
stops at the first model below it), the paired interval over seeds, the three verdicts, the
shared models of posgen-yarn (training replaced by a stub; the real quick runs are the slow
tests in test_claims.py)."""

from __future__ import annotations

import warnings

import pytest
from papershelf.registry import RunContext
from resonance_rope import posgen_runs, posgen_table
from resonance_rope.posgen_runs import RunResult
from resonance_rope.posgen_table import ROWS, posgen_claim, yarn_claim


def fake_metrics(ood: float, id_acc: float = 0.95) -> dict:
    per_position = [None] * 5 + [id_acc] * 60 + [ood] * 192  # 257 positions, 5 never predicted
    return {
        "id_acc": id_acc,
        "ood_acc": ood,
        "acc_by_position": per_position,
        "acc_by_bucket": [(5, id_acc)],
    }


@pytest.fixture(autouse=True)
def empty_cache():
    posgen_table._CACHE.clear()
    yield
    posgen_table._CACHE.clear()


def stub(monkeypatch, ood, id_acc=lambda seed, res: 0.95):
    """Replace training: ``ood(seed, resonance) -> (own OOD, YaRN OOD)`` fractions."""
    calls = []

    def run_posgen(task, model_cfg, settings, *, resonance, data, device):
        calls.append((task.seed, settings.seed, settings.epochs, resonance, data["train"].shape))
        own, yarn = ood(settings.seed, resonance)
        acc = id_acc(settings.seed, resonance)
        name = "resonance" if resonance else "default"
        return RunResult(name, fake_metrics(own, acc), fake_metrics(yarn, acc)), None

    monkeypatch.setattr(posgen_runs, "run_posgen", run_posgen)
    return calls


def ctx(tmp_path, quick=True):
    tmp_path.mkdir(parents=True, exist_ok=True)
    return RunContext(quick=quick, seed=0, out=tmp_path)


def test_consistent_gain_holds(tmp_path, monkeypatch):
    calls = stub(monkeypatch, lambda s, r: (0.4 + 0.1 * r + 0.01 * s, 0.6 + 0.1 * r + 0.011 * s))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the plot skips never-predicted positions quietly
        result = posgen_claim("cot", ctx(tmp_path))
    assert [c[:4] for c in calls] == [(s, s, 8, r) for s in (0, 1, 2) for r in (False, True)]
    assert all(shape == (2000, 65) for *_, shape in calls)
    table = result.details["table"]
    assert set(table) == set(ROWS)
    assert table["RoPE"]["ood_per_seed"] == pytest.approx([40, 41, 42])
    assert result.ours == pytest.approx(51) and result.baseline == pytest.approx(41)
    assert result.holds is True and result.reason == ""
    first = result.details["intervals"][0]
    assert first["mean"] == pytest.approx(10) and first["low"] == pytest.approx(10)
    assert result.config["steps"] == 8 * 32 and result.config["seeds"] == [0, 1, 2]
    assert (tmp_path / result.plots[0]).is_file()


def test_positive_mean_over_a_wide_spread_is_inconclusive(tmp_path, monkeypatch):
    """The old rule (mean difference >= 0) said "holds" here; the paired interval cannot."""
    delta = {0: 0.20, 1: -0.15, 2: 0.01}  # mean +2 points, spread 35 points
    stub(monkeypatch, lambda s, r: (0.4 + delta[s] * r, 0.6 + 0.05 * r))
    result = posgen_claim("cot", ctx(tmp_path))
    assert result.details["intervals"][0]["mean"] == pytest.approx(2)
    assert result.holds is None
    assert "Resonance RoPE - RoPE" in result.reason and "contains 0" in result.reason


def test_consistent_loss_does_not_hold(tmp_path, monkeypatch):
    drop = {0: 0.05, 1: 0.06, 2: 0.05}
    stub(monkeypatch, lambda s, r: (0.4 - drop[s] * r + 0.01 * s, 0.6 + 0.1 * r + 0.01 * s))
    result = posgen_claim("semi_recursive", ctx(tmp_path))
    assert result.holds is False and result.reason == ""


def test_recursive_expects_resonance_below_rope(tmp_path, monkeypatch):
    drop = {0: 0.05, 1: 0.06, 2: 0.05}
    stub(monkeypatch, lambda s, r: (0.4 - drop[s] * r + 0.01 * s, 0.6 + 0.1 * r + 0.01 * s))
    result = posgen_claim("recursive", ctx(tmp_path))
    assert result.holds is True  # Table 1: Resonance < RoPE there, Resonance-YaRN > YaRN


def test_quick_run_stops_at_the_first_model_below_the_precondition(tmp_path, monkeypatch):
    calls = stub(
        monkeypatch,
        lambda s, r: (0.4 + 0.1 * r, 0.6),
        id_acc=lambda s, r: 0.52 if (s, r) == (0, False) else 0.99,
    )
    result = posgen_claim("cot", ctx(tmp_path))
    assert len(calls) == 1  # the verdict cannot be anything but inconclusive any more
    assert result.holds is None
    assert "RoPE (seed 0) reached 52.0 %" in result.reason and "< 90 %" in result.reason
    assert "other 5 of 6 models were not trained" in result.reason
    assert result.details["stopped"]["model"] == "RoPE"


def test_without_stopping_every_model_is_trained_and_the_weakest_named(tmp_path, monkeypatch):
    calls = stub(
        monkeypatch,
        lambda s, r: (0.4 + 0.1 * r, 0.6),
        id_acc=lambda s, r: 0.89 if (s, r) == (2, True) else 0.99,
    )
    table = posgen_table.posgen_table("cot", ctx(tmp_path), stop_early=False)
    assert len(calls) == 6
    holds, reason, _ = posgen_table.verdict(table, posgen_table.COMPARISONS["cot"])
    assert holds is None and "Resonance RoPE (seed 2) reached 89.0 %" in reason


def test_yarn_claim_reuses_the_cot_rope_models(tmp_path, monkeypatch):
    calls = stub(monkeypatch, lambda s, r: (0.4 + 0.01 * s, 0.5 + 0.012 * s))
    posgen_claim("cot", ctx(tmp_path / "cot"))
    assert len(calls) == 6
    result = yarn_claim(ctx(tmp_path / "yarn"))
    assert len(calls) == 6  # no training: the RoPE models of posgen-cot
    assert result.holds is True and set(result.details["table"]) == {"RoPE", "YaRN"}
    assert result.ours == pytest.approx(51.2) and result.baseline == pytest.approx(41)


def test_yarn_claim_alone_trains_only_rope_models(tmp_path, monkeypatch):
    calls = stub(monkeypatch, lambda s, r: (0.4 + 0.01 * s, 0.5 + 0.012 * s))
    yarn_claim(ctx(tmp_path))
    assert [c[3] for c in calls] == [False, False, False]
