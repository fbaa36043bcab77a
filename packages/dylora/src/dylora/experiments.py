"""The shared pieces of the claims and the CLI: a training loop and the DyLoRA encoder.

The MiniLM task and its evaluation are ``papershelf.text_classification``'s (re-exported here:
``EncoderTask``, ``load_encoder_task``, ``evaluate``). The claims use a plain loop (clear and
fast); the CLI's ``train`` uses ``papershelf.train``.

A "LoRA at rank r" baseline is our layer with the rank held fixed at r during training: at a
fixed rank DyLoRA *is* LoRA (tests check this against PEFT's own LoRA output).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch
from papershelf.text_classification import EncoderTask, evaluate, load_encoder_task

from dylora.config import DyLoRAConfig
from dylora.model import DyLoRAModel, get_dylora_model

__all__ = [
    "EncoderTask",
    "dylora_encoder",
    "evaluate",
    "load_encoder_task",
    "set_threads",
    "train_adapter",
    "warmup_linear",
]


def set_threads(limit: int | None = None) -> int:
    """Torch threads: the cores this process may run on, at most ``limit``;
    ``DYLORA_THREADS`` overrides (see :func:`papershelf.threads.set_torch_threads`)."""
    from papershelf.threads import set_torch_threads

    return set_torch_threads(limit, env="DYLORA_THREADS")


def check_lora_baseline(model: DyLoRAModel, fixed_rank: int | None) -> None:
    """A fixed-rank run is plain LoRA only with ``update_mode="all"`` (frozen trains one row)."""
    if fixed_rank is not None and fixed_rank > 1 and model.dylora_config.update_mode != "all":
        raise ValueError(
            "update_mode: a fixed-rank (plain LoRA) run needs update_mode='all'; "
            "'frozen' would train only row b"
        )


def warmup_linear(step: int, warmup: int, total: int) -> float:
    """LR factor: linear warm-up over ``warmup`` steps, then linear decay to 0 at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def train_adapter(
    model: DyLoRAModel,
    data: dict[str, torch.Tensor],
    *,
    steps: int,
    lr: float,
    batch_size: int = 32,
    warmup: int = 10,
    weight_decay: float = 0.0,
    fixed_rank: int | None = None,
    seed: int = 0,
    loss_fn: Callable[[Any, dict], torch.Tensor] | None = None,
) -> dict[str, Any]:
    """Train with AdamW; sample b each step (DyLoRA) or hold ``fixed_rank`` (plain LoRA).

    Returns ``{"seconds": wall time, "cpu_seconds": process CPU time, "losses": [...]}``. Stops with a message on NaN/inf loss.
    """
    from papershelf.train import TrainingDiverged

    check_lora_baseline(model, fixed_rank)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_linear(s, warmup, steps))
    n = len(data["labels"])
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=gen)
    pos = 0
    losses: list[float] = []
    model.train()
    if fixed_rank is not None:
        model.set_rank(fixed_rank)
    strict = model.dylora_config.strict_freeze and fixed_rank is None
    start, cpu_start = time.perf_counter(), time.process_time()
    for step in range(steps):
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos : pos + batch_size]
        pos += batch_size
        batch = {k: v[idx] for k, v in data.items()}
        if fixed_rank is None:
            model.sample_rank(step)
        loss = loss_fn(model, batch) if loss_fn is not None else model(**batch).loss
        if not math.isfinite(loss.item()):
            raise TrainingDiverged(f"loss: became {loss.item()} at step {step}; lower lr ({lr})")
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sched.step()
        if strict:
            model.restore_inactive_rows()
        losses.append(loss.item())
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu_start,
        "losses": losses,
    }


def dylora_encoder(task: EncoderTask, config: DyLoRAConfig) -> DyLoRAModel:
    """A fresh copy of the task's encoder with DyLoRA layers per ``config``.

    The adapter init (Kaiming-uniform ``lora_A``) is seeded from ``config.seed``, so a run does
    not depend on what ran before it in the same process.
    """
    from papershelf.seeding import seed_everything

    seed_everything(config.seed)
    return get_dylora_model(task.fresh_model(), config)
