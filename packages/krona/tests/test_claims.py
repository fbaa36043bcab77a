"""The claims' training settings, and quick runs of the two expensive claims (slow: schema
only, their direction is not asserted). The cheapest claim (structure, whose students train
through papershelf.train) runs in test_paper.py."""

from __future__ import annotations

import json

import pytest
from papershelf.registry import Result


def test_equal_budget_schedule_is_the_old_warmup_then_linear_decay():
    """``TrainConfig(schedule="linear", warmup_steps=10)`` is the formula the claim's own loop
    used before papershelf.train: (s+1)/W during warm-up, then (T-s)/(T-W)."""
    from krona.claims.equal_budget import WARMUP_STEPS
    from papershelf.schedules import lr_factor

    assert WARMUP_STEPS == 10
    for total in (60, 300):

        def old(s: int, total: int = total) -> float:
            w = WARMUP_STEPS
            return (s + 1) / w if s < w else max(0.0, (total - s) / max(1, total - w))

        for s in range(total):
            assert lr_factor("linear", s, WARMUP_STEPS, total) == pytest.approx(old(s), abs=1e-12)


def test_equal_budget_runs_end_to_end_on_a_tiny_encoder(monkeypatch, tmp_path):
    """The claim's code path (three methods, three seeds, papershelf.train, evaluation) on the
    random 2-layer tiny-encoder with 2 steps per run; the settings it asks for are the quick ones."""
    from krona.claims import equal_budget
    from papershelf.registry import RunContext
    from papershelf.text_classification import load_encoder_task

    def tiny_task(seed, **kwargs):
        kwargs.update(n_train=64, n_test=32)
        return load_encoder_task(seed, model="tiny-encoder", **kwargs)

    configs = []

    def short_train(model, data, loss_fn, config, **kwargs):
        configs.append(config)
        return real_train(model, data, loss_fn, config.replace(max_steps=2, warmup_steps=1))

    real_train = equal_budget.train
    monkeypatch.setattr(equal_budget, "load_encoder_task", tiny_task)
    monkeypatch.setattr(equal_budget, "train", short_train)
    result = equal_budget.run(RunContext(quick=True, seed=0, out=tmp_path))
    assert isinstance(result, Result) and isinstance(result.holds, bool)
    runs = result.details["runs"]
    assert set(runs) == {"krona", "lora_r1", "lora_r2"} and all(len(r) == 3 for r in runs.values())
    assert [c.seed for c in configs] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    c = configs[0]
    assert (c.max_steps, c.lr, c.batch_size, c.warmup_steps, c.schedule) == (
        60,
        3e-3,
        16,
        10,
        "linear",
    )
    assert (c.optimizer, c.weight_decay) == ("adamw", 0.0)
    json.dumps({"details": result.details, "config": result.config})


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", ["equal-budget", "inference-cost"])
def test_quick_run_schema(claim_id, run_claim):
    result = run_claim(claim_id)
    assert isinstance(result, Result) and isinstance(result.holds, bool)
    json.dumps({"details": result.details, "config": result.config})
    if claim_id == "inference-cost":
        assert result.details["merged_vs_unmerged_max_abs_diff"] < 1e-4
