"""PosGen runs: YaRN presets, train/eval RoPEs, the one-cycle schedule, training through
papershelf.train learns and is deterministic."""

from __future__ import annotations

import pytest
import torch
from papershelf.errors import UserError
from papershelf.schedules import lr_factor
from papershelf.train import TrainingDiverged
from resonance_rope import RopeConfig
from resonance_rope.config import DecoderConfig, PosGenConfig, TrainSettings
from resonance_rope.model import PosGenDecoder
from resonance_rope.posgen import make_posgen
from resonance_rope.posgen_runs import (
    posgen_loss,
    posgen_ropes,
    run_posgen,
    train_model,
    yarn_rope,
)


def one_cycle_factor(total: int, pct_start: float):
    """The schedule the package's training loop used, via papershelf (see test_config)."""
    warm = round(pct_start * total)
    return lambda step: lr_factor("one_cycle", step, warm, total)


def test_one_cycle_schedule_shape():
    f = one_cycle_factor(100, 0.1)
    assert f(0) == pytest.approx(1 / 25) and f(10) == pytest.approx(1.0) and f(100) < 1e-4
    assert all(f(i) >= f(i + 1) for i in range(10, 100))
    # the explicit cosine formula halfway through each phase
    assert f(5) == pytest.approx(1 / 25 + (1 - 1 / 25) / 2)
    low = 1 / (25 * 1e4)
    assert f(55) == pytest.approx(low + (1 - low) / 2) and f(100) == pytest.approx(low)


def test_yarn_presets():
    task = PosGenConfig("cot")
    official = yarn_rope(32, task, "official", resonance=True)
    assert official.type_name == "resonance_yarn" and official.factor == pytest.approx(257 / 65)
    assert official.original_max_position_embeddings == 257 and official.beta_fast == 2.0
    paper = yarn_rope(32, task, "paper", resonance=False)
    assert (paper.factor, paper.original_max_position_embeddings, paper.beta_fast) == (
        4.0,
        64,
        32.0,
    )


@pytest.mark.parametrize("resonance", [False, True])
def test_posgen_ropes_per_schedule(resonance):
    task = PosGenConfig("cot")
    base = "resonance" if resonance else "default"
    yarn = "resonance_yarn" if resonance else "yarn"
    names = {}
    for schedule, with_yarn in [("eval_only", True), ("train", True), ("eval_only", False)]:
        train, ev = posgen_ropes(
            32, task, resonance=resonance, yarn_schedule=schedule, with_yarn=with_yarn
        )
        names[schedule, with_yarn] = (train.type_name, ev.type_name if ev else None)
    assert names == {
        ("eval_only", True): (base, yarn),
        ("train", True): (yarn, None),
        ("eval_only", False): (base, None),
    }
    with pytest.raises(UserError, match="yarn_schedule"):
        posgen_ropes(32, task, resonance=resonance, yarn_schedule="always")


def test_short_training_learns_and_reports_both_rows():
    task = PosGenConfig("cot", train_len=16, test_len=48, n_train=256, n_val=0, n_test=32)
    data = make_posgen(task)
    settings = TrainSettings(epochs=6, batch_size=32, lr=3e-3, seed=0)
    result, _ = run_posgen(
        task, DecoderConfig(d_model=32, d_ff=64), settings, resonance=True, data=data
    )
    assert result.losses[-1] < result.losses[0] - 0.1
    assert result.yarn_metrics is not None and 0 <= result.metrics["ood_acc"] <= 1
    assert result.name == "resonance"


def test_train_model_is_deterministic():
    task = PosGenConfig("cot", train_len=16, test_len=32, n_train=64, n_val=0, n_test=0)
    data = make_posgen(task)["train"]
    losses = []
    for _ in range(2):
        torch.manual_seed(0)
        model = PosGenDecoder(
            DecoderConfig(d_model=32, d_ff=64), RopeConfig(16, rope_type="resonance")
        )
        losses.append(
            train_model(model, data, task, TrainSettings(epochs=2, batch_size=16, seed=1))
        )
    assert losses[0] == losses[1]


def test_train_model_follows_the_one_cycle_schedule():
    """epochs x ceil(n / batch) steps (the old loop's count) under one_cycle peaking at
    round(pct_start x steps); progress is called after every step."""
    task = PosGenConfig("cot", train_len=16, test_len=32, n_train=40, n_val=0, n_test=0)
    tokens = make_posgen(task)["train"]
    settings = TrainSettings(epochs=3, batch_size=16, lr=2e-3, pct_start=0.25, seed=0)
    torch.manual_seed(0)
    model = PosGenDecoder(DecoderConfig(d_model=32, d_ff=64), RopeConfig(16))
    seen = []
    train_model(
        model,
        tokens,
        task,
        settings,
        progress=lambda step, total, loss: seen.append((step, total, loss)),
    )
    steps = 3 * 3  # ceil(40 / 16) steps per epoch, as the old loop counted them
    assert [s for s, _, _ in seen] == list(range(1, steps + 1))
    assert {t for _, t, _ in seen} == {steps}
    config = settings.train_config(steps)
    assert (config.schedule, config.warmup_steps, config.weight_decay) == ("one_cycle", 2, 1e-2)


def test_diverging_loss_stops_with_a_message():
    task = PosGenConfig("cot", train_len=16, test_len=32, n_train=32, n_val=0, n_test=0)
    tokens = make_posgen(task)["train"]
    torch.manual_seed(0)
    model = PosGenDecoder(DecoderConfig(d_model=32, d_ff=64), RopeConfig(16))
    with torch.no_grad():
        model.lm_head.weight.fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match="loss"):
        train_model(model, tokens, task, TrainSettings(epochs=1, batch_size=16))


def test_posgen_loss_ignores_masked_positions():
    task = PosGenConfig("cot", train_len=16, test_len=32, n_train=4, n_val=0, n_test=0)
    tokens = make_posgen(task)["train"]
    torch.manual_seed(0)
    model = PosGenDecoder(DecoderConfig(d_model=32, d_ff=64), RopeConfig(16))
    labels = tokens.clone()
    labels[:, :] = -100
    labels[:, 7] = tokens[:, 7]
    logits = model(tokens)
    expected = torch.nn.functional.cross_entropy(logits[:, 6], tokens[:, 7])
    loss = posgen_loss(model, {"tokens": tokens, "labels": labels})
    torch.testing.assert_close(loss, expected)
