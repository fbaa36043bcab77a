"""Maximum-likelihood training of a flow on a data tensor, through ``papershelf.train``.

``fit(flow, data, steps=..., ...)`` minimises ``-mean log p(x)`` over ``steps`` minibatches
drawn with replacement from ``data`` (one seeded generator per call, so the batches are those
of the plain Adam loop this replaced); the Student-t degrees of freedom get ``df_lr_mult``
times the learning rate (tails paper); a non-finite loss stops training with the step number
and what to try.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from papershelf.errors import UserError
from papershelf.train import TrainConfig, TrainingDiverged, TrainState, train
from torch import Tensor

__all__ = ["FitResult", "fit", "mean_nll", "nll_loss"]


@dataclass
class FitResult:
    """The loss of every step and the number of steps run."""

    losses: list[float] = field(default_factory=list)
    steps: int = 0


def nll_loss(flow: torch.nn.Module, batch: Tensor) -> Tensor:
    """``-mean log p(x)`` of an unconditional flow over ``batch: (n, D)``."""
    return -flow().log_prob(batch).mean()


def fit(
    flow: torch.nn.Module,
    data: Tensor,
    steps: int = 1000,
    batch_size: int = 512,
    lr: float = 1e-3,
    df_lr_mult: float = 10.0,
    max_grad_norm: float | None = 5.0,
    weight_decay: float = 0.0,
    seed: int = 0,
    progress: bool = False,
    log_every: int = 50,
) -> FitResult:
    """Train ``flow`` (in place) on ``data: (n, D)``; returns the loss history.

    Step ``s`` uses ``min(batch_size, n)`` rows drawn uniformly with replacement by a
    generator seeded with ``seed``; Adam over ``flow.param_groups(lr, df_lr_mult)``, constant
    learning rate, gradients clipped to ``max_grad_norm`` (``None``: no clipping). The flow is
    left in eval mode.
    """
    if data.ndim != 2 or data.shape[1] != flow.features:
        raise UserError(
            f"data: expected (n, {flow.features}) values, got shape {tuple(data.shape)}"
        )
    if steps < 1 or batch_size < 1 or lr <= 0:
        raise UserError(f"steps/batch_size/lr: must be positive, got {steps}, {batch_size}, {lr}")
    n = data.shape[0]
    batch = min(batch_size, n)
    gen = torch.Generator().manual_seed(seed)

    def sample_batch(step: int) -> Tensor:
        # called once per step, in order: the generator's stream gives the batches
        return data[torch.randint(0, n, (batch,), generator=gen)]

    config = TrainConfig(
        max_steps=steps,
        lr=lr,
        batch_size=batch,
        weight_decay=weight_decay,
        max_grad_norm=max_grad_norm,
        optimizer="adam",
        seed=seed,
        progress=progress,
        log_every=log_every,
    )
    optimizer = torch.optim.Adam(flow.param_groups(lr, df_lr_mult), weight_decay=weight_decay)
    state = TrainState()
    try:
        train(flow, sample_batch, nll_loss, config, optimizer=optimizer, state=state)
    except TrainingDiverged:
        raise TrainingDiverged(
            f"training: the loss became non-finite at step {state.step + 1}; "
            "try a lower --lr (or a lower df learning rate for a Student-t base)"
        ) from None
    finally:
        flow.eval()
    return FitResult(losses=state.losses, steps=state.step)


@torch.no_grad()
def mean_nll(flow: torch.nn.Module, data: Tensor, chunk: int = 8192) -> float:
    """Mean ``-log p(x)`` over ``data`` (eval mode, chunked)."""
    d = flow()
    return float(torch.cat([-d.log_prob(x) for x in data.split(chunk)]).mean())
