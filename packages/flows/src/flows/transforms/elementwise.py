"""Elementwise layers: affine, ActNorm, leaky ReLU (review, "elementwise bijections").

All map ``(..., D) -> (..., D)`` with ``ladj = sum_i log|h'(z_i)|``.
"""

from __future__ import annotations

import math

import torch
from papershelf.errors import UserError
from torch import Tensor, nn

from flows.transforms.base import TransformModule, _check_features

__all__ = ["ActNorm", "Affine", "LeakyReLU"]


class Affine(TransformModule):
    """``x = z * exp(log_scale) + shift`` with learnable ``shift, log_scale: (D,)``."""

    def __init__(self, features: int) -> None:
        super().__init__()
        _check_features(features)
        self.features = features
        self.shift = nn.Parameter(torch.zeros(features))
        self.log_scale = nn.Parameter(torch.zeros(features))

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        x = z * self.log_scale.exp() + self.shift
        return x, self.log_scale.sum().expand(z.shape[:-1])

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        z = (x - self.shift) * torch.exp(-self.log_scale)
        return z, (-self.log_scale.sum()).expand(x.shape[:-1])


class ActNorm(Affine):
    """Affine layer with data-dependent init (Kingma & Dhariwal 2018).

    The first call in the normalizing direction sets ``shift, log_scale`` so that the
    batch is standardised. ``isotropic=True`` uses one shared scale and no shift, which
    commutes with every orthogonal group (the only ActNorm allowed in G-flows).
    """

    def __init__(self, features: int, isotropic: bool = False) -> None:
        super().__init__(features)
        self.isotropic = isotropic
        if isotropic:
            self.log_scale = nn.Parameter(torch.zeros(1))
            self.shift = nn.Parameter(torch.zeros(1), requires_grad=False)
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def _init(self, x: Tensor) -> None:
        flat = x.reshape(-1, self.features)
        if flat.shape[0] < 2:
            return
        if self.isotropic:
            std = flat.pow(2).mean().sqrt().clamp_min(1e-6)
            self.log_scale.fill_(float(std.log()))
        else:
            self.shift.copy_(flat.mean(0))
            self.log_scale.copy_(flat.std(0).clamp_min(1e-6).log())
        self.initialized.fill_(True)

    def _ladj(self, x: Tensor) -> Tensor:
        total = self.log_scale.sum() * (self.features if self.isotropic else 1)
        return total.expand(x.shape[:-1])

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return z * self.log_scale.exp() + self.shift, self._ladj(z)

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        if self.training and not bool(self.initialized):
            self._init(x)
        return (x - self.shift) * torch.exp(-self.log_scale), -self._ladj(x)

    def equivariant_under(self, group: object) -> bool:
        return self.isotropic


class LeakyReLU(TransformModule):
    """``x = z`` for ``z >= 0`` and ``slope * z`` otherwise (``slope > 0``)."""

    def __init__(self, features: int, slope: float = 0.1) -> None:
        super().__init__()
        _check_features(features)
        if not slope > 0:
            raise UserError(f"slope: must be > 0, got {slope}")
        self.features, self.slope = features, slope

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        neg = z < 0
        x = torch.where(neg, z * self.slope, z)
        return x, neg.to(z.dtype).sum(-1) * math.log(self.slope)

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        neg = x < 0
        z = torch.where(neg, x / self.slope, x)
        return z, -neg.to(x.dtype).sum(-1) * math.log(self.slope)
