"""Evaluation helpers: grid mass of a 2-D density, symmetry error, bits per dimension."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from papershelf.errors import UserError
from torch import Tensor

__all__ = ["bits_per_dim", "grid_mass", "symmetry_error"]


@torch.no_grad()
def grid_mass(
    log_prob: Callable[[Tensor], Tensor],
    box: float = 4.0,
    n: int = 400,
    outside_fraction: float = 0.0,
    dtype: torch.dtype = torch.float32,
) -> float:
    """Riemann mass of ``exp(log_prob)`` on an ``n x n`` grid over ``[-box, box]^2`` plus
    ``outside_fraction`` (the Monte-Carlo fraction of model samples outside the box)."""
    if n < 2 or box <= 0:
        raise UserError(f"grid: needs n >= 2 and box > 0, got n={n}, box={box}")
    h = 2 * box / n
    centers = -box + h * (torch.arange(n, dtype=dtype) + 0.5)
    xx, yy = torch.meshgrid(centers, centers, indexing="ij")
    pts = torch.stack([xx.flatten(), yy.flatten()], -1)
    lp = torch.cat([log_prob(chunk) for chunk in pts.split(40000)])
    return float(lp.exp().sum() * h * h) + outside_fraction


@torch.no_grad()
def symmetry_error(log_prob: Callable[[Tensor], Tensor], x: Tensor, group) -> float:
    """``max_g max_x |log p(rho(g) x) - log p(x)|``."""
    base = log_prob(x)
    orbit = group.orbit(x)
    return max(float((log_prob(orbit[i]) - base).abs().max()) for i in range(orbit.shape[0]))


def bits_per_dim(log_prob: Tensor, dims: int, levels: int = 256) -> Tensor:
    """``(-log p(x) + D log levels) / (D ln 2)`` for data dequantised as ``(k + u) / levels``."""
    return (-log_prob + dims * math.log(levels)) / (dims * math.log(2))
