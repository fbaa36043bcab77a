"""Planar and radial flows (Rezende & Mohamed 2015), with their invertibility constraints.

Planar: ``x = z + u_hat tanh(w.z + b)``, ``ladj = log|1 + u_hat.w tanh'(w.z + b)|`` with
``u_hat = u + (m(w.u) - w.u) w / |w|^2``, ``m(a) = -1 + softplus(a)`` so ``w.u_hat >= -1``.
The inverse solves the monotone scalar equation ``w.x = a + w.u_hat tanh(a + b)`` for
``a = w.z`` by bisection on ``[w.x - |w.u_hat|, w.x + |w.u_hat|]``.

Radial: ``x = z + beta h(r)(z - z0)``, ``r = |z - z0|``, ``h = 1/(alpha + r)``,
``alpha = softplus(.)``, ``beta = -alpha + softplus(.)`` (invertible iff ``beta >= -alpha``);
``ladj = (D-1) log(1 + beta h) + log(1 + beta h + beta h' r)``; the inverse is closed-form.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from flows.transforms.base import TransformModule, _check_features

__all__ = ["Planar", "Radial"]


class Planar(TransformModule):
    """One tanh planar layer on ``(..., D)``."""

    def __init__(self, features: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        _check_features(features)
        self.features = features
        self.w = nn.Parameter(torch.randn(features, generator=generator) * 0.1)
        self.u = nn.Parameter(torch.randn(features, generator=generator) * 0.1)
        self.b = nn.Parameter(torch.zeros(()))

    def u_hat(self) -> Tensor:
        wu = self.w @ self.u
        return self.u + (-1 + F.softplus(wu) - wu) * self.w / (self.w @ self.w).clamp_min(1e-12)

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        u = self.u_hat()
        a = z @ self.w + self.b
        th = torch.tanh(a)
        x = z + u * th.unsqueeze(-1)
        ladj = torch.log((1 + (1 - th**2) * (self.w @ u)).abs().clamp_min(1e-30))
        return x, ladj

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        u = self.u_hat()
        wu = self.w @ u
        target = x @ self.w
        lo, hi = target - wu.abs() - 1e-6, target + wu.abs() + 1e-6
        with torch.no_grad():
            for _ in range(100 if x.dtype == torch.float64 else 60):
                mid = (lo + hi) / 2
                too_big = mid + wu * torch.tanh(mid + self.b) > target
                hi = torch.where(too_big, mid, hi)
                lo = torch.where(too_big, lo, mid)
        a = (lo + hi) / 2
        # one Newton step with gradients attached (exact to working precision)
        f = a + wu * torch.tanh(a + self.b) - target
        a = a - f / (1 + wu * (1 - torch.tanh(a + self.b) ** 2))
        th = torch.tanh(a + self.b)
        z = x - u * th.unsqueeze(-1)
        ladj = torch.log((1 + (1 - th**2) * wu).abs().clamp_min(1e-30))
        return z, -ladj


class Radial(TransformModule):
    """One radial layer on ``(..., D)``."""

    def __init__(self, features: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        _check_features(features)
        self.features = features
        self.z0 = nn.Parameter(torch.randn(features, generator=generator) * 0.1)
        self.raw_alpha = nn.Parameter(torch.zeros(()))
        self.raw_beta = nn.Parameter(torch.zeros(()))

    def alpha_beta(self) -> tuple[Tensor, Tensor]:
        alpha = F.softplus(self.raw_alpha)
        return alpha, -alpha + F.softplus(self.raw_beta)

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        alpha, beta = self.alpha_beta()
        diff = z - self.z0
        r = diff.norm(dim=-1)
        h = 1 / (alpha + r)
        x = z + (beta * h).unsqueeze(-1) * diff
        bh = beta * h
        ladj = (self.features - 1) * torch.log1p(bh) + torch.log1p(bh - beta * h**2 * r)
        return x, ladj

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        alpha, beta = self.alpha_beta()
        diff = x - self.z0
        ry = diff.norm(dim=-1)
        # r^2 + (alpha + beta - r_y) r - alpha r_y = 0, positive root
        bq = alpha + beta - ry
        r = (-bq + torch.sqrt(bq**2 + 4 * alpha * ry)) / 2
        h = 1 / (alpha + r)
        z = self.z0 + diff / (1 + beta * h).unsqueeze(-1)
        bh = beta * h
        ladj = (self.features - 1) * torch.log1p(bh) + torch.log1p(bh - beta * h**2 * r)
        return z, -ladj
