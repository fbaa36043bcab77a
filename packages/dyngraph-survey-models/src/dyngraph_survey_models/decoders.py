"""Decoders: embeddings -> predictions (a link's logit, or the time of the next event).

``LinkDecoder``: ``mlp`` = ``Linear(2d, d) -> ReLU -> Linear(d, 1)`` on ``[z_u ‖ z_v]``
(PyG's TGN ``LinkPredictor`` up to reparametrisation), ``hadamard`` = ``Linear(d, 1)(z_u ⊙ z_v)``,
``dot`` = ``<z_u, z_v>``.

``IntensityDecoder`` (DyRep, Trivedi et al. 2019): ``λ_uv = ψ softplus(ωᵀ[z_u ‖ z_v] / ψ)``,
constant until the next update, so Δ ~ Exp(λ): NLL ``-log λ + λ Δ``, E[Δ] = 1/λ. With
``hazard="rayleigh"`` (Know-Evolve style) ``λ(Δ) = e^g Δ``: NLL ``-log(e^g Δ) + e^g Δ² / 2``,
E[Δ] = sqrt(π / (2 e^g)).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from torch import nn

__all__ = ["DECODERS", "IntensityDecoder", "LinkDecoder"]

DECODERS = ("mlp", "hadamard", "dot")


class LinkDecoder(nn.Module):
    """Score pairs: ``z_u (B, d), z_v (B, d) -> logits (B,)``."""

    def __init__(self, kind: str, dim: int):
        super().__init__()
        if kind not in DECODERS:
            raise UserError(f"decoder: {kind!r} is not one of {', '.join(DECODERS)}")
        self.kind = kind
        if kind == "mlp":
            self.net = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, 1))
        elif kind == "hadamard":
            self.net = nn.Linear(dim, 1)

    def forward(self, z_u: torch.Tensor, z_v: torch.Tensor) -> torch.Tensor:
        if self.kind == "mlp":
            return self.net(torch.cat([z_u, z_v], dim=-1)).squeeze(-1)
        if self.kind == "hadamard":
            return self.net(z_u * z_v).squeeze(-1)
        return (z_u * z_v).sum(-1)


class IntensityDecoder(nn.Module):
    """Time-to-next-event decoder on ``z_u, z_v (B, d)``; ``dt (B,)`` > 0."""

    def __init__(self, dim: int, hazard: str = "exponential", psi: float = 1.0):
        super().__init__()
        if hazard not in ("exponential", "rayleigh"):
            raise UserError(f"hazard: {hazard!r} is not one of exponential, rayleigh")
        self.hazard = hazard
        self.omega = nn.Linear(2 * dim, 1)
        self.log_psi = nn.Parameter(torch.tensor(math.log(psi)))

    def _g(self, z_u: torch.Tensor, z_v: torch.Tensor) -> torch.Tensor:
        return self.omega(torch.cat([z_u, z_v], dim=-1)).squeeze(-1)

    def intensity(self, z_u: torch.Tensor, z_v: torch.Tensor) -> torch.Tensor:
        """(B,) λ > 0 (exponential) or the scale e^g (rayleigh)."""
        g = self._g(z_u, z_v)
        if self.hazard == "rayleigh":
            return g.exp()
        psi = self.log_psi.exp()
        return psi * F.softplus(g / psi) + 1e-12

    def nll(self, z_u: torch.Tensor, z_v: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """(B,) negative log-likelihood of the observed gaps ``dt``."""
        dt = dt.to(z_u.dtype)
        lam = self.intensity(z_u, z_v)
        if self.hazard == "rayleigh":
            return -(lam.log() + dt.clamp_min(1e-12).log()) + lam * dt**2 / 2
        return -lam.log() + lam * dt

    def expected_dt(self, z_u: torch.Tensor, z_v: torch.Tensor) -> torch.Tensor:
        """(B,) expected time to the next event."""
        lam = self.intensity(z_u, z_v)
        if self.hazard == "rayleigh":
            return torch.sqrt(math.pi / (2 * lam))
        return 1.0 / lam
