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
    assert isinstance(result, Result) and result.holds in (True, False, None)
    if result.holds is None:
        assert result.reason
    runs = result.details["runs"]
    assert set(runs) == {"krona", "lora_r1", "lora_r2"} and all(len(r) == 3 for r in runs.values())
    # per method: the grid on seed 0 (scored on validation), then seeds 1 and 2 at the choice
    assert [c.seed for c in configs] == [0, 0, 1, 2] * 3
    assert [c.lr for c in configs[:2]] == [3e-3, 3e-3]
    grid = result.details["grid_validation"]["krona"]
    assert [g["scale"] for g in grid] == [1.0, 4.0]
    chosen = result.details["chosen"]["krona"]
    best = max(grid, key=lambda g: (g["accuracy"], -g["nll"]))
    assert (chosen["scale"], chosen["lr"]) == (best["scale"], best["lr"])
    assert result.config["n_val"] == 12 and result.config["n_train"] == 52  # 20 % of 64
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


def test_equal_budget_rule_on_paired_intervals():
    from krona.claims.equal_budget import decide, paired_interval

    mean, low, high = paired_interval([0.01, 0.02, 0.03])
    assert mean - low == pytest.approx(high - mean)
    assert mean == pytest.approx(0.02)
    assert high - mean == pytest.approx(4.303 * 0.01 / 3**0.5)
    clear_win = paired_interval([0.02, 0.021, 0.019])
    clear_loss = paired_interval([-0.02, -0.021, -0.019])
    noise = paired_interval([0.02, -0.01, 0.005])
    near_r2 = paired_interval([0.0, 0.001, -0.001])
    assert decide(clear_win, near_r2) is True
    assert decide(clear_loss, near_r2) is False
    assert decide(noise, near_r2) is None
    assert decide(clear_win, paired_interval([-0.05, -0.04, -0.045])) is False


def test_inference_cost_rule_needs_a_margin_beyond_the_repeat_noise():
    from krona.claims.inference_cost import paired_ratio_interval, verdict_band, verdict_slower

    base = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.02, 0.98]
    slow = [1.3 * b for b in base]
    same = [
        b * f for b, f in zip(base, [1.04, 0.97, 1.03, 0.96, 1.05, 0.95, 1.01, 0.99], strict=True)
    ]
    med, low, high = paired_ratio_interval(slow, base, seed=0)
    assert med == pytest.approx(1.3) and low == pytest.approx(1.3) and high == pytest.approx(1.3)
    assert verdict_slower(low, high) is True
    _, low, high = paired_ratio_interval(same, base, seed=0)
    assert low < 1.0 < high
    assert verdict_slower(low, high) is None  # inside the noise: no verdict
    assert verdict_band(low, high, (0.95, 1.05)) is True
    assert verdict_band(0.9, 1.0, (0.95, 1.05)) is None
    assert verdict_band(1.1, 1.2, (0.95, 1.05)) is False
    assert verdict_slower(0.9, 0.99) is False
    assert verdict_slower(1.01, 1.1) is None  # above 1 but within the 2 % margin


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", ["equal-budget", "inference-cost"])
def test_quick_run_schema(claim_id, run_claim):
    result = run_claim(claim_id)
    assert isinstance(result, Result) and result.holds in (True, False, None)
    json.dumps({"details": result.details, "config": result.config})
    if claim_id == "inference-cost":
        assert result.details["merged_vs_unmerged_max_abs_diff"] < 1e-4
