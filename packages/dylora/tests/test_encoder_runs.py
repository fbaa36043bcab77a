from __future__ import annotations

import pytest
import torch
from dylora import DyLoRAConfig, get_dylora_model
from dylora.experiments import (
    check_lora_baseline,
    evaluate,
    set_threads,
    train_adapter,
    warmup_linear,
)
from dylora.testing import make_tiny_bert
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


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_set_threads_uses_allowed_cores_then_limit_then_env(monkeypatch, restore_threads):
    monkeypatch.delenv("DYLORA_THREADS", raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert set_threads() == 3 == torch.get_num_threads()
    assert set_threads(limit=2) == 2 == torch.get_num_threads()
    assert set_threads(limit=8) == 3
    monkeypatch.setenv("DYLORA_THREADS", "1")
    assert set_threads() == 1 == torch.get_num_threads()


def test_warmup_linear():
    assert [warmup_linear(s, 2, 6) for s in range(6)] == [0.5, 1.0, 1.0, 0.75, 0.5, 0.25]


def test_nan_loss_stops_with_step_number():
    m = model()
    nan_at_step_0 = lambda mod, batch: mod(**batch).loss * float("nan")  # noqa: E731
    with pytest.raises(TrainingDiverged, match="loss: became nan at step 0"):
        train_adapter(m, data(), steps=3, lr=1e-3, batch_size=4, loss_fn=nan_at_step_0)


def test_frozen_mode_cannot_be_a_lora_baseline():
    with pytest.raises(ValueError, match="update_mode: a fixed-rank"):
        check_lora_baseline(model(update_mode="frozen"), 4)
    check_lora_baseline(model(update_mode="all"), 4)


def test_training_reduces_loss_and_evaluate_bounds():
    m = model(update_mode="all")
    d = data(32)
    before = evaluate(m, d)
    out = train_adapter(m, d, steps=30, lr=1e-2, batch_size=32, warmup=2)
    after = evaluate(m, d)
    assert after["nll"] < before["nll"] and 0 <= after["accuracy"] <= 1
    assert len(out["losses"]) == 30
