"""Train-short / test-long PosGen runs: one trained model per base RoPE, YaRN rows by eval switch.

Training goes through ``papershelf.train.train`` (AdamW, the ``one_cycle`` schedule); the
settings are a ``TrainSettings`` (``resonance_rope.config``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from papershelf.config import check_choice

from resonance_rope.config import (
    IGNORE_INDEX,
    DecoderConfig,
    PosGenConfig,
    RopeConfig,
    TrainSettings,
)
from resonance_rope.model import PosGenDecoder
from resonance_rope.posgen import make_posgen, posgen_labels, posgen_metrics

__all__ = [
    "YARN_PRESETS",
    "YARN_SCHEDULES",
    "RunResult",
    "TrainSettings",
    "evaluate",
    "evaluate_with_switch",
    "next_token_loss",
    "posgen_dataset",
    "posgen_loss",
    "posgen_ropes",
    "run_posgen",
    "train_model",
    "yarn_rope",
]

YARN_SCHEDULES = ("eval_only", "train")
YARN_PRESETS = ("official", "paper")


def yarn_rope(head_dim: int, task: PosGenConfig, preset: str, resonance: bool) -> RopeConfig:
    """The YaRN used for PosGen.

    ``official``: the official code's eval-time YaRN, s = (test+1)/(train+1), correction range
    from the extended length, beta_fast 2, beta_slow 1. ``paper``: s = 4 (App. C.1),
    L_orig = train length, beta 32/1.
    """
    check_choice("yarn_preset", preset, YARN_PRESETS)
    rope_type = "resonance_yarn" if resonance else "yarn"
    if preset == "official":
        long = task.test_len + 1
        return RopeConfig(
            head_dim,
            rope_type=rope_type,
            factor=long / (task.train_len + 1),
            original_max_position_embeddings=long,
            beta_fast=2.0,
            beta_slow=1.0,
        )
    return RopeConfig(
        head_dim, rope_type=rope_type, factor=4.0, original_max_position_embeddings=task.train_len
    )


def posgen_ropes(
    head_dim: int,
    task: PosGenConfig,
    *,
    resonance: bool,
    yarn_schedule: str = "eval_only",
    yarn_preset: str = "official",
    with_yarn: bool = True,
) -> tuple[RopeConfig, RopeConfig | None]:
    """(train_rope, eval_rope) of one PosGen model.

    Without YaRN: (RoPE or Resonance RoPE, None). ``yarn_schedule="eval_only"`` (official code):
    (RoPE or Resonance RoPE, its YaRN) switched at eval; ``"train"``: (its YaRN, None).
    """
    check_choice("yarn_schedule", yarn_schedule, YARN_SCHEDULES)
    base = RopeConfig(head_dim, rope_type="resonance" if resonance else "default")
    yarn = yarn_rope(head_dim, task, yarn_preset, resonance)
    if not with_yarn:
        return base, None
    return (yarn, None) if yarn_schedule == "train" else (base, yarn)


@dataclass
class RunResult:
    """Metrics of one trained model, under its own RoPE and (optionally) YaRN at eval."""

    name: str
    metrics: dict
    yarn_metrics: dict | None
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(
    model: PosGenDecoder, tokens: torch.Tensor, task: PosGenConfig, batch_size: int = 200
) -> dict:
    """Teacher-forced metrics of ``model`` (in eval mode) on ``tokens`` (N, T)."""
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = torch.cat(
            [model(chunk.to(device)).float().cpu() for chunk in tokens.split(batch_size)]
        )
    return posgen_metrics(logits, tokens, task)


def evaluate_with_switch(
    model: PosGenDecoder, tokens: torch.Tensor, task: PosGenConfig, batch_size: int = 200
) -> tuple[dict, dict | None]:
    """(metrics under the training RoPE, metrics with the eval-time RoPE or None if it has none)."""
    eval_rotary = model.eval_rotary
    model.eval_rotary = None
    try:
        metrics = evaluate(model, tokens, task, batch_size)
    finally:
        model.eval_rotary = eval_rotary
    switched = evaluate(model, tokens, task, batch_size) if eval_rotary is not None else None
    return metrics, switched


def next_token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of logits[:, p] (B, T, V) against labels[:, p + 1] (B, T), -100 ignored."""
    return F.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]),
        labels[:, 1:].reshape(-1),
        ignore_index=IGNORE_INDEX,
    )


def posgen_loss(model: PosGenDecoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """``papershelf.train``'s loss: next-token cross-entropy of a ``{"tokens", "labels"}`` batch."""
    return next_token_loss(model(batch["tokens"]), batch["labels"])


def posgen_dataset(tokens: torch.Tensor, task: PosGenConfig) -> dict[str, torch.Tensor]:
    """``{"tokens": (N, T), "labels": (N, T)}``, rows indexed by ``papershelf.train``."""
    return {"tokens": tokens, "labels": posgen_labels(tokens, task)}


def train_model(
    model: PosGenDecoder,
    train: torch.Tensor,
    task: PosGenConfig,
    settings: TrainSettings,
    progress: Callable[[int, int, float], None] | None = None,
) -> list[float]:
    """AdamW + OneCycle (cosine) on next-token cross-entropy; returns the loss of every step.

    ``settings.total_steps(len(train))`` steps of ``papershelf.train.train`` (see
    ``TrainSettings.train_config``). ``progress(step, total, loss)`` is called after each
    step when given.

    Raises:
        papershelf.train.TrainingDiverged: the loss became NaN/inf.
    """
    from papershelf.train import FunctionHook
    from papershelf.train import train as train_loop

    config = settings.train_config(settings.total_steps(train.shape[0]))
    hooks = []
    if progress is not None:
        hooks.append(
            FunctionHook(on_step_end=lambda s: progress(s.step, config.max_steps, s.losses[-1]))
        )
    state = train_loop(model, posgen_dataset(train, task), posgen_loss, config, hooks=hooks)
    return state.losses


def run_posgen(
    task: PosGenConfig,
    model_cfg: DecoderConfig,
    settings: TrainSettings,
    *,
    resonance: bool,
    yarn_schedule: str = "eval_only",
    yarn_preset: str = "official",
    with_yarn: bool = True,
    data: dict[str, torch.Tensor] | None = None,
    device: str = "cpu",
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[RunResult, PosGenDecoder]:
    """Train one model (RoPE or Resonance RoPE) and evaluate it, plus YaRN on top when asked.

    ``yarn_schedule="eval_only"`` (official code) reuses the trained model with YaRN switched on at
    eval; ``"train"`` trains a separate model with YaRN (``with_yarn`` then selects it).
    """
    train_rope, eval_rope = posgen_ropes(
        model_cfg.head_dim,
        task,
        resonance=resonance,
        yarn_schedule=yarn_schedule,
        yarn_preset=yarn_preset,
        with_yarn=with_yarn,
    )
    data = data if data is not None else make_posgen(task)
    torch.manual_seed(settings.seed)
    model = PosGenDecoder(model_cfg, train_rope, eval_rope).to(device)
    start = time.perf_counter()
    losses = train_model(model, data["train"], task, settings, progress)
    metrics, yarn_metrics = evaluate_with_switch(
        model, data["test"], task, settings.eval_batch_size
    )
    seconds = time.perf_counter() - start
    return RunResult(train_rope.type_name, metrics, yarn_metrics, losses, seconds), model
