"""Time encodings Φ(Δt) used by the continuous-time models.

TGAT (Xu et al., ICLR 2020, Bochner features): ``Φ(Δt) = sqrt(1/d) [cos ω_1 Δt, sin ω_1 Δt, ...,
cos ω_{d/2} Δt, sin ω_{d/2} Δt]`` with learnable frequencies ω, so ``<Φ(t1), Φ(t2)>`` depends only
on ``t1 - t2``. ``"cos-linear"`` is PyG's ``TimeEncoder``: ``cos(W Δt + b)``.
"""

from __future__ import annotations

import math

import torch
from papershelf.errors import UserError
from torch import nn

__all__ = ["TIME_ENCODERS", "TGATTimeEncoding", "make_time_encoder"]

TIME_ENCODERS = ("tgat", "cos-linear")


class TGATTimeEncoding(nn.Module):
    """Bochner time features. Input ``dt (...,)``, output ``(..., dim)``; ``dim`` must be even.

    Frequencies start at ``ω_k = 10^(-9 k / (d/2 - 1))`` (TGAT's initialisation) and are learned.
    """

    def __init__(self, dim: int):
        super().__init__()
        if dim < 2 or dim % 2:
            raise UserError(f"time_dim: must be an even integer >= 2, got {dim}")
        self.dim = dim
        half = dim // 2
        self.omega = nn.Parameter(
            1.0 / 10 ** torch.linspace(0, 9, half) if half > 1 else torch.ones(1)
        )

    def forward(self, dt: torch.Tensor) -> torch.Tensor:
        arg = dt.to(self.omega.dtype).unsqueeze(-1) * self.omega
        out = torch.stack([torch.cos(arg), torch.sin(arg)], dim=-1).flatten(-2)
        return out * math.sqrt(1.0 / self.dim)


class CosLinearTimeEncoding(nn.Module):
    """PyG's ``TimeEncoder``: ``cos(Linear(1, dim)(dt))``; input ``(...,)``, output ``(..., dim)``."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.lin = nn.Linear(1, dim)

    def forward(self, dt: torch.Tensor) -> torch.Tensor:
        return self.lin(dt.to(self.lin.weight.dtype).unsqueeze(-1)).cos()


def make_time_encoder(kind: str, dim: int) -> nn.Module:
    if kind == "tgat":
        return TGATTimeEncoding(dim)
    if kind == "cos-linear":
        return CosLinearTimeEncoding(dim)
    raise UserError(f"time_encoder: {kind!r} is not one of {', '.join(TIME_ENCODERS)}")
