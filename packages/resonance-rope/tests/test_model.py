"""PosGenDecoder: shapes, causality, eval-time RoPE switch, training reduces the loss."""

from __future__ import annotations

import pytest
import torch
from papershelf.errors import UserError
from resonance_rope import RopeConfig
from resonance_rope.experiment import (
    TrainSettings,
    one_cycle,
    posgen_ropes,
    run_posgen,
    train_model,
    yarn_rope,
)
from resonance_rope.model import DecoderConfig, PosGenDecoder
from resonance_rope.posgen import PosGenConfig, make_posgen

YARN = RopeConfig(32, rope_type="yarn", factor=4.0, original_max_position_embeddings=64)


def test_forward_shape_and_causality():
    torch.manual_seed(0)
    model = PosGenDecoder(DecoderConfig(), RopeConfig(32, rope_type="resonance")).eval()
    x = torch.randint(0, 18, (2, 30))
    logits = model(x)
    assert logits.shape == (2, 30, 18)
    y = x.clone()
    y[:, 20:] = (y[:, 20:] + 1) % 18
    torch.testing.assert_close(model(y)[:, :20], logits[:, :20])


def test_eval_rope_only_in_eval_mode():
    torch.manual_seed(0)
    model = PosGenDecoder(DecoderConfig(), RopeConfig(32), eval_rope=YARN)
    model.train()
    assert model.active_rotary() is model.rotary
    model.eval()
    assert model.active_rotary() is model.eval_rotary
    x = torch.randint(0, 18, (1, 100))
    plain = PosGenDecoder(DecoderConfig(), RopeConfig(32))
    plain.load_state_dict(model.state_dict())
    plain.eval()
    with torch.no_grad():
        assert not torch.allclose(model(x), plain(x))
        model.train()
        torch.testing.assert_close(model(x), plain(x))  # dropout 0: train mode never sees YaRN


def test_head_dim_mismatch_is_refused():
    with pytest.raises(UserError, match="head_dim"):
        PosGenDecoder(DecoderConfig(), RopeConfig(16))


def test_paper_config():
    cfg = DecoderConfig.paper()
    assert (cfg.d_model, cfg.d_ff, cfg.n_heads, cfg.head_dim, cfg.n_layers, cfg.dropout) == (
        512,
        2048,
        8,
        64,
        2,
        0.1,
    )


def test_one_cycle_schedule_shape():
    f = one_cycle(100, 0.1)
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
