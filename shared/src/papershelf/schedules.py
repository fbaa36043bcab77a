"""Learning-rate schedules: a linear warm-up, then constant, linear decay or cosine decay.

The factor multiplies the base learning rate of every parameter group (a
``torch.optim.lr_scheduler.LambdaLR``). With ``W`` warm-up steps and ``T`` total steps, the
factor used for the update of step ``s`` (0-based) is

- warm-up, ``s < W``: ``(s + 1) / W``;
- then ``constant``: 1; ``linear``: ``(T - s) / (T - W)``; ``cosine``:
  ``0.5 * (1 + cos(pi * (s - W) / (T - W)))``.

``one_cycle`` is the cosine one-cycle shape of torch's ``OneCycleLR`` (``div=25``,
``final_div=1e4``): a cosine rise from ``1/div`` at ``s = 0`` to 1 at ``s = W``, then a cosine
fall to ``1/(div*final_div)`` at ``s = T``. Both phases end one step later than torch's
(peak at ``W``, not ``W - 1``), so a run of ``T`` steps ends just above the floor.

The warm-up reaches the full rate on its last step, and both decays start at 1 right after
it and reach 0 at ``s = T`` (the first step past the run).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from papershelf.errors import UserError

SCHEDULES = ("constant", "linear", "cosine", "one_cycle")
ONE_CYCLE_DIV, ONE_CYCLE_FINAL_DIV = 25.0, 1e4

__all__ = ["SCHEDULES", "lr_factor", "lr_lambda", "make_scheduler"]


def lr_factor(kind: str, step: int, warmup_steps: int, total_steps: int) -> float:
    """The learning-rate factor of training step ``step`` (0-based); see the module docstring."""
    if kind == "one_cycle":
        return _one_cycle(step, warmup_steps, total_steps)
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if kind == "constant":
        return 1.0
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    if kind == "linear":
        return 1.0 - progress
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise UserError(f"schedule: must be one of {', '.join(SCHEDULES)}; got {kind!r}")


def _one_cycle(step: int, warmup_steps: int, total_steps: int) -> float:
    low, peak_at = 1.0 / ONE_CYCLE_DIV, max(1, warmup_steps)
    if step < peak_at:
        return low + (1.0 - low) * (1.0 - math.cos(math.pi * step / peak_at)) / 2.0
    floor = 1.0 / (ONE_CYCLE_DIV * ONE_CYCLE_FINAL_DIV)
    progress = min(1.0, (step - peak_at) / max(1, total_steps - peak_at))
    return floor + (1.0 - floor) * (1.0 + math.cos(math.pi * progress)) / 2.0


def lr_lambda(kind: str, warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """``lr_factor`` with the schedule fixed, as ``LambdaLR`` wants it."""
    if kind not in SCHEDULES:
        raise UserError(f"schedule: must be one of {', '.join(SCHEDULES)}; got {kind!r}")
    if warmup_steps < 0 or total_steps < 1:
        raise UserError(
            f"warmup_steps: must be >= 0 with total_steps >= 1, got {warmup_steps} and {total_steps}"
        )
    return lambda step: lr_factor(kind, step, warmup_steps, total_steps)


def make_scheduler(optimizer: Any, kind: str, warmup_steps: int, total_steps: int) -> Any:
    """A ``torch.optim.lr_scheduler.LambdaLR`` over ``optimizer`` following ``kind``."""
    import torch

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(kind, warmup_steps, total_steps))
