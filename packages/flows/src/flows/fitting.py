"""Maximum-likelihood training of a flow on a data tensor (a plain Adam loop).

``fit(flow, data, steps=..., ...)`` minimises ``-mean log p(x)`` on random minibatches;
the Student-t degrees of freedom get ``df_lr_mult`` times the learning rate (tails paper);
a non-finite loss stops training with the step number and what to try.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from papershelf.errors import UserError
from torch import Tensor

__all__ = ["FitResult", "fit", "mean_nll"]


@dataclass
class FitResult:
    losses: list[float] = field(default_factory=list)
    steps: int = 0


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
    """Train ``flow`` (in place) on ``data: (n, D)``; returns the loss history."""
    if data.ndim != 2 or data.shape[1] != flow.features:
        raise UserError(
            f"data: expected (n, {flow.features}) values, got shape {tuple(data.shape)}"
        )
    if steps < 1 or batch_size < 1 or lr <= 0:
        raise UserError(f"steps/batch_size/lr: must be positive, got {steps}, {batch_size}, {lr}")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(flow.param_groups(lr, df_lr_mult), weight_decay=weight_decay)
    flow.train()
    result = FitResult()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="fit", unit="step")
    n = data.shape[0]
    for step in range(1, steps + 1):
        idx = torch.randint(0, n, (min(batch_size, n),), generator=gen)
        loss = -flow().log_prob(data[idx]).mean()
        if not torch.isfinite(loss):
            raise UserError(
                f"training: the loss became {loss.item()} at step {step}; "
                "try a lower --lr (or a lower df learning rate for a Student-t base)"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(flow.parameters(), max_grad_norm)
        opt.step()
        result.losses.append(loss.item())
        result.steps = step
        if bar is not None:
            bar.update(1)
            if step % log_every == 0:
                bar.set_postfix(nll=f"{loss.item():.3f}")
    if bar is not None:
        bar.close()
    flow.eval()
    return result


@torch.no_grad()
def mean_nll(flow: torch.nn.Module, data: Tensor, chunk: int = 8192) -> float:
    """Mean ``-log p(x)`` over ``data`` (eval mode, chunked)."""
    d = flow()
    return float(torch.cat([-d.log_prob(x) for x in data.split(chunk)]).mean())
