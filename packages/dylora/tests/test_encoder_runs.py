"""dylora.encoder_runs: train_adapter through papershelf.train (schedule, NaN stop, timings)."""

from __future__ import annotations

import pytest
import torch
from dylora import DyLoRAConfig, get_dylora_model
from dylora.encoder_runs import ALPHA, R_MAX, encoder_config, train_adapter
from dylora.testing import make_tiny_bert
from papershelf.schedules import lr_factor
from papershelf.text_classification import evaluate
from papershelf.train import TrainingDiverged


def data(n=16):
    gen = torch.Generator().manual_seed(0)
    return {
        "input_ids": torch.randint(0, 100, (n, 6), generator=gen),
        "attention_mask": torch.ones(n, 6, dtype=torch.long),
        "labels": torch.randint(0, 3, (n,), generator=gen),
    }


def model(**kw):
    return get_dylora_model(
        make_tiny_bert(),
        DyLoRAConfig(
            r_max=4, target_modules=["query", "value"], modules_to_save=["classifier"], **kw
        ),
    )


def test_warmup_linear():
    """The claims' schedule (was ``warmup_linear``): linear warm-up, then linear decay to 0."""
    assert [lr_factor("linear", s, 2, 6) for s in range(6)] == [0.5, 1.0, 1.0, 0.75, 0.5, 0.25]


def test_train_adapter_follows_the_warmup_linear_schedule():
    m = model(update_mode="all")
    seen = []
    opt_step = torch.optim.AdamW.step

    def spy(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return opt_step(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.optim.AdamW, "step", spy)
        train_adapter(m, data(), steps=6, lr=1e-2, batch_size=4, warmup=2)
    assert seen == pytest.approx([1e-2 * f for f in (0.5, 1.0, 1.0, 0.75, 0.5, 0.25)])


def test_nan_loss_stops_with_step_number():
    m = model()
    nan_at_step_0 = lambda mod, batch: mod(**batch).loss * float("nan")  # noqa: E731
    with pytest.raises(TrainingDiverged, match="loss: became nan at step 0"):
        train_adapter(m, data(), steps=3, lr=1e-3, batch_size=4, warmup=1, loss_fn=nan_at_step_0)


def test_training_reduces_loss_and_evaluate_bounds():
    m = model(update_mode="all")
    d = data(32)
    before = evaluate(m, d)
    out = train_adapter(m, d, steps=30, lr=1e-2, batch_size=32, warmup=2)
    after = evaluate(m, d)
    assert after["nll"] < before["nll"] and 0 <= after["accuracy"] <= 1
    assert len(out["losses"]) == 30
    assert out["seconds"] > 0 and out["cpu_seconds"] > 0


def test_fixed_rank_run_holds_the_rank_and_refuses_frozen_mode():
    m = model(update_mode="all")
    train_adapter(m, data(), steps=2, lr=1e-3, batch_size=4, warmup=1, fixed_rank=2)
    assert m.rank == 2
    with pytest.raises(ValueError, match="update_mode: a fixed-rank"):
        train_adapter(model(), data(), steps=2, lr=1e-3, batch_size=4, warmup=1, fixed_rank=2)


def test_encoder_config():
    c = encoder_config(3, update_mode="all")
    assert (c.r_max, c.alpha, c.seed, c.update_mode) == (R_MAX, ALPHA, 3, "all")
    assert c.target_modules == ["query", "value"] and c.modules_to_save == ["classifier"]
    assert encoder_config(0, r_max=2).r_max == 2
