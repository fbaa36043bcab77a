"""Train-short / test-long PosGen runs: one trained model per base RoPE, YaRN rows by eval switch."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from papershelf.errors import UserError

from resonance_rope.config import RopeConfig
from resonance_rope.model import DecoderConfig, PosGenDecoder
from resonance_rope.posgen import (
    IGNORE_INDEX,
    PosGenConfig,
    make_posgen,
    posgen_labels,
    posgen_metrics,
)

YARN_SCHEDULES = ("eval_only", "train")
YARN_PRESETS = ("official", "paper")


@dataclass
class TrainSettings:
    """Optimisation of one PosGen model (paper: 150 epochs, batch 128, AdamW 2e-4, wd 1e-2, OneCycle)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-2
    pct_start: float = 0.1
    seed: int = 0
    eval_batch_size: int = 200

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise UserError(f"epochs/batch_size: must be >= 1, got {self.epochs}/{self.batch_size}")
        if not self.lr > 0:
            raise UserError(f"lr: must be > 0, got {self.lr}")


def yarn_rope(head_dim: int, task: PosGenConfig, preset: str, resonance: bool) -> RopeConfig:
    """The YaRN used for PosGen.

    ``official``: the official code's eval-time YaRN, s = (test+1)/(train+1), correction range
    from the extended length, beta_fast 2, beta_slow 1. ``paper``: s = 4 (App. C.1),
    L_orig = train length, beta 32/1.
    """
    if preset not in YARN_PRESETS:
        raise UserError(
            f"yarn_preset: {preset!r} is unknown; choose from {', '.join(YARN_PRESETS)}"
        )
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
    if yarn_schedule not in YARN_SCHEDULES:
        raise UserError(
            f"yarn_schedule: {yarn_schedule!r} is unknown; choose from {', '.join(YARN_SCHEDULES)}"
        )
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


def one_cycle(total: int, pct_start: float, div: float = 25.0, final_div: float = 1e4):
    """LR multiplier of a cosine one-cycle schedule: 1/div -> 1 -> 1/(div*final_div).

    The shape of torch's ``OneCycleLR`` (cosine), with both phases ending one step later: the
    peak is at step ``round(pct_start * total)`` (torch: ``pct_start * total - 1``) and the floor
    at step ``total`` (torch: ``total - 1``), so a run of ``total`` steps ends just above it.
    """
    warm = max(1, round(pct_start * total))

    def factor(step: int) -> float:
        if step < warm:
            w = step / warm
            return 1 / div + (1 - 1 / div) * (1 - math.cos(math.pi * w)) / 2
        w = min(1.0, (step - warm) / max(1, total - warm))
        low = 1 / (div * final_div)
        return low + (1 - low) * (1 + math.cos(math.pi * w)) / 2

    return factor


def train_model(
    model: PosGenDecoder,
    train: torch.Tensor,
    task: PosGenConfig,
    settings: TrainSettings,
    progress=None,
) -> list[float]:
    """AdamW + OneCycle (cosine) on next-token cross-entropy; returns the loss of every step.

    ``progress(step, total, loss)`` is called after each step when given.
    """
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(settings.seed)
    labels = posgen_labels(train, task)
    steps_per_epoch = math.ceil(train.shape[0] / settings.batch_size)
    total = steps_per_epoch * settings.epochs
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, one_cycle(total, settings.pct_start))
    losses: list[float] = []
    model.train()
    for _ in range(settings.epochs):
        order = torch.randperm(train.shape[0], generator=gen)
        for idx in order.split(settings.batch_size):
            x, y = train[idx].to(device), labels[idx].to(device)
            loss = next_token_loss(model(x), y)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"loss: became {loss.item()} at step {len(losses)}; lower lr"
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if progress is not None:
                progress(len(losses), total, losses[-1])
    return losses


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
    progress=None,
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
