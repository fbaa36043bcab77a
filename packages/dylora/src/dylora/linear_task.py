"""The linear teacher–student of the rank-sweep-linear claim, where the best rank-b answer is known.

A frozen ``W₀ ~ N(0, 1/d)`` must learn ``ΔW* = U·diag(σ)·Vᵀ`` (rank 8). For x ~ N(0, I) the
population test MSE of a predicted update ΔW is exactly ``‖ΔW − ΔW*‖²_F / d``, and the best
rank-b error is ``Σ_{i>b} σᵢ² / d`` (Eckart–Young), so no test set is sampled.
"""

from __future__ import annotations

import torch
from torch import nn

from dylora.config import DyLoRAConfig
from dylora.model import DyLoRAModel, get_dylora_model

__all__ = ["SIGMAS", "Student", "make_problem", "mse_at", "train_student"]

#: The singular values of the target update ΔW*.
SIGMAS = (2.0, 1.5, 1.1, 0.8, 0.6, 0.45, 0.33, 0.25)


class Student(nn.Module):
    """``proj: nn.Linear(d, d, bias=False)`` holding ``W₀``; ``x: (n, d) -> (n, d)``."""

    def __init__(self, w0: torch.Tensor) -> None:
        super().__init__()
        self.proj = nn.Linear(w0.shape[1], w0.shape[0], bias=False)
        with torch.no_grad():
            self.proj.weight.copy_(w0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


def make_problem(d: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(W₀: (d, d), ΔW*: (d, d))`` with ``ΔW* = U·diag(SIGMAS)·Vᵀ``."""
    gen = torch.Generator().manual_seed(seed)
    w0 = torch.randn(d, d, generator=gen) / d**0.5
    u, _ = torch.linalg.qr(torch.randn(d, len(SIGMAS), generator=gen))
    v, _ = torch.linalg.qr(torch.randn(d, len(SIGMAS), generator=gen))
    return w0, u @ torch.diag(torch.tensor(SIGMAS)) @ v.T


def train_student(
    w0: torch.Tensor,
    target: torch.Tensor,
    config: DyLoRAConfig,
    *,
    steps: int,
    batch: int,
    seed: int,
    fixed_rank: int | None,
) -> DyLoRAModel:
    """Train a DyLoRA student (b sampled per step, or held at ``fixed_rank``) on fresh
    samples ``y = x (W₀ + ΔW*)ᵀ + 0.01·noise`` each step, through ``papershelf.train.train``:
    Adam lr 1e-2, 100 warm-up steps then linear decay, MSE loss."""
    from papershelf.train import TrainConfig, train

    from dylora.sampling import RankHook

    torch.manual_seed(seed)  # the adapter init; independent of what ran before
    model = get_dylora_model(Student(w0), config)
    gen = torch.Generator().manual_seed(seed + 1)
    w_true = w0 + target

    def sample(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(batch, w0.shape[1], generator=gen)
        y = x @ w_true.T + 0.01 * torch.randn(batch, w0.shape[0], generator=gen)
        return x, y

    def mse(m: DyLoRAModel, xy: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = xy
        return (m(x) - y).pow(2).mean()

    train_config = TrainConfig(
        max_steps=steps,
        lr=1e-2,
        batch_size=batch,
        optimizer="adam",
        warmup_steps=100,
        schedule="linear",
        seed=seed,
        progress=False,
    )
    train(model, sample, mse, train_config, hooks=[RankHook(model, fixed_rank=fixed_rank)])
    return model


@torch.no_grad()
def mse_at(model: DyLoRAModel, target: torch.Tensor, b: int, scaling: str | None = None) -> float:
    """The exact test MSE ``‖ΔW_b − ΔW*‖²_F / d`` of the student at rank b (optionally under
    another scale rule than it was trained with)."""
    layer = model.dylora_layers["proj"]
    saved = layer.config.scaling
    if scaling is not None:
        layer.config.scaling = scaling
    try:
        delta = layer.delta_weight(b)
    finally:
        layer.config.scaling = saved
    return ((delta - target).pow(2).sum() / target.shape[1]).item()
