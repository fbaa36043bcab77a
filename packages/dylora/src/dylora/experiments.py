"""The shared pieces of the claims and the CLI: the MiniLM task, a training loop, evaluation.

The claims use a plain loop (clear and fast); the CLI's ``train`` uses ``papershelf.train``.
A "LoRA at rank r" baseline is our layer with the rank held fixed at r during training: at a
fixed rank DyLoRA *is* LoRA (tests check this against PEFT's own LoRA output).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

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


@dataclass
class EncoderTask:
    """A tokenised text-classification task and a factory of fresh copies of the encoder."""

    base: nn.Module
    train: dict[str, torch.Tensor]
    test: dict[str, torch.Tensor]
    num_classes: int
    description: str

    def fresh_model(self) -> nn.Module:
        return copy.deepcopy(self.base)


def _encode(tokenizer: Any, texts: list[str], labels: list[int], max_length: int) -> dict:
    enc = tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )
    return {
        "input_ids": enc["input_ids"],
        "attention_mask": enc["attention_mask"],
        "labels": torch.tensor(labels),
    }


def load_encoder_task(
    seed: int = 0,
    *,
    model: str = "offline",
    num_classes: int = 4,
    n_train: int = 2000,
    n_test: int = 400,
    max_length: int = 32,
) -> EncoderTask:
    """The offline MiniLM classifier and papershelf's synthetic topic task (held-out words)."""
    from papershelf.data import synthetic_text_classification
    from papershelf.models import load_model
    from papershelf.seeding import seed_everything

    seed_everything(seed)  # the new classifier head is drawn from the global RNG
    base, tokenizer = load_model(model, task="sequence-classification", num_labels=num_classes)
    data = synthetic_text_classification(
        tokenizer, num_classes=num_classes, n_train=n_train, n_test=n_test, seed=seed
    )
    return EncoderTask(
        base=base,
        train=_encode(tokenizer, data.train.texts, data.train.labels, max_length),
        test=_encode(tokenizer, data.test.texts, data.test.labels, max_length),
        num_classes=num_classes,
        description=(
            f"{model} + papershelf.data.synthetic_text_classification(num_classes={num_classes}, "
            f"n_train={n_train}, n_test={n_test}, seed={seed})"
        ),
    )


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


@torch.no_grad()
def evaluate(model: nn.Module, data: dict[str, torch.Tensor], batch_size: int = 200) -> dict:
    """Accuracy and mean NLL (nats) of a sequence classifier on ``data``."""
    was = model.training
    model.eval()
    correct, nll, n = 0, 0.0, len(data["labels"])
    for i in range(0, n, batch_size):
        batch = {k: v[i : i + batch_size] for k, v in data.items()}
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        nll += torch.nn.functional.cross_entropy(logits, batch["labels"], reduction="sum").item()
        correct += (logits.argmax(-1) == batch["labels"]).sum().item()
    model.train(was)
    return {"accuracy": correct / n, "nll": nll / n}


def dylora_encoder(task: EncoderTask, config: DyLoRAConfig) -> DyLoRAModel:
    """A fresh copy of the task's encoder with DyLoRA layers per ``config``.

    The adapter init (Kaiming-uniform ``lora_A``) is seeded from ``config.seed``, so a run does
    not depend on what ran before it in the same process.
    """
    from papershelf.seeding import seed_everything

    seed_everything(config.seed)
    return get_dylora_model(task.fresh_model(), config)
