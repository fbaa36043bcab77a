"""The MiniLM runs of the rank-sweep and search-free claims: the encoder's DyLoRA settings,
a fresh DyLoRA encoder, and ``train_adapter`` (one DyLoRA or fixed-rank LoRA run).

The task and its evaluation are ``papershelf.text_classification``'s (``load_encoder_task``,
``evaluate``); the loop is ``papershelf.train.train`` with :class:`dylora.sampling.RankHook`.

A "LoRA at rank r" baseline is our layer with the rank held fixed at r during training: at a
fixed rank DyLoRA *is* LoRA (tests check this against PEFT's own LoRA output and against a
hand-written LoRA trained by the same loop).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dylora.config import DyLoRAConfig
from dylora.model import DyLoRAModel, get_dylora_model

if TYPE_CHECKING:
    import torch
    from papershelf.text_classification import EncoderTask

__all__ = ["ALPHA", "R_MAX", "dylora_encoder", "encoder_config", "train_adapter"]

#: The MiniLM claims' adapter: r_max = 8, α = 8 on query/value, the classifier trained.
R_MAX = 8
ALPHA = 8.0


def encoder_config(seed: int, **kw: Any) -> DyLoRAConfig:
    """The MiniLM claims' ``DyLoRAConfig`` (``kw`` overrides, e.g. ``update_mode="all"``)."""
    kw.setdefault("r_max", R_MAX)
    return DyLoRAConfig(
        alpha=ALPHA,
        target_modules=["query", "value"],
        modules_to_save=["classifier"],
        seed=seed,
        **kw,
    )


def dylora_encoder(task: EncoderTask, config: DyLoRAConfig) -> DyLoRAModel:
    """A fresh copy of the task's encoder with DyLoRA layers per ``config``.

    The adapter init (Kaiming-uniform ``lora_A``) is seeded from ``config.seed``, so a run does
    not depend on what ran before it in the same process.
    """
    from papershelf.seeding import seed_everything

    seed_everything(config.seed)
    return get_dylora_model(task.fresh_model(), config)


def train_adapter(
    model: DyLoRAModel,
    data: Mapping[str, torch.Tensor],
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
    """Train with AdamW (``warmup`` linear warm-up steps, then linear decay to 0) through
    ``papershelf.train.train``; b is sampled each step (DyLoRA) or held at ``fixed_rank``
    (plain LoRA, ``update_mode="all"``).

    ``data`` is a split dict of equal-length tensors (batches: a seeded permutation per
    epoch). Returns ``{"seconds": wall time, "cpu_seconds": process CPU time, "losses": [...]}``
    of the loop (``TrainState.wall_seconds`` / ``cpu_seconds`` / ``losses``).

    Raises:
        papershelf.train.TrainingDiverged: the loss became NaN/inf (the message names the step).
    """
    from papershelf.text_classification import classification_loss
    from papershelf.train import TrainConfig, train

    from dylora.sampling import RankHook

    config = TrainConfig(
        max_steps=steps,
        lr=lr,
        batch_size=batch_size,
        weight_decay=weight_decay,
        warmup_steps=warmup,
        schedule="linear",
        seed=seed,
        progress=False,
    )
    hook = RankHook(model, fixed_rank=fixed_rank)
    state = train(model, data, loss_fn or classification_loss, config, hooks=[hook])
    return {
        "seconds": state.wall_seconds,
        "cpu_seconds": state.cpu_seconds,
        "losses": state.losses,
    }
