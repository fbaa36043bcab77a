"""Coupling layers (Dinh et al. 2015, 2017; Durkan et al. 2019).

``x_A = z_A``, ``x_B = h(z_B; theta(z_A, c))`` with a boolean ``mask`` marking ``A``.
``h`` is additive ``z + t``, affine ``z * exp(s) + t`` (``s`` bounded, see ``bound_scale``)
or a rational-quadratic spline.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from torch import Tensor

from flows.nn import MLP
from flows.transforms.base import TransformModule, _check_features, broadcast_context
from flows.transforms.spline import rq_spline

__all__ = ["AdditiveCoupling", "AffineCoupling", "SplineCoupling", "bound_scale", "default_mask"]

SCALES = ("softclamp", "sigmoid", "softplus", "exp")


def default_mask(features: int, parity: int = 0) -> Tensor:
    """Alternating halves: ``A`` = first ``ceil(D/2)`` features (``parity=0``) or the rest."""
    mask = torch.arange(features) < (features + 1) // 2
    return mask if parity % 2 == 0 else ~mask


def bound_scale(raw: Tensor, scale: str, clamp: float = 3.0) -> Tensor:
    """Log-scale ``s`` from the raw output: ``softclamp`` ``c tanh(raw/c)`` (default),
    nflows' ``log(sigmoid(raw+2)+1e-3)``, ``log(softplus(raw)+1e-3)`` or unbounded ``exp``."""
    if scale == "softclamp":
        return clamp * torch.tanh(raw / clamp)
    if scale == "sigmoid":
        return torch.log(torch.sigmoid(raw + 2) + 1e-3)
    if scale == "softplus":
        return torch.log(F.softplus(raw) + 1e-3)
    if scale == "exp":
        return raw
    raise UserError(f"scale: must be one of {', '.join(SCALES)}, got {scale!r}")


def check_scale(scale: str) -> None:
    bound_scale(torch.zeros(1), scale)  # raises on an unknown name


def affine_univariate(
    u: Tensor, theta: Tensor, scale: str, clamp: float, inverse: bool
) -> tuple[Tensor, Tensor]:
    """``u * exp(s) + t`` (or its inverse) with ``t, raw = theta[..., 0], theta[..., 1]`` and
    ``s = bound_scale(raw)``; returns the value and the elementwise log-derivative."""
    t, s = theta[..., 0], bound_scale(theta[..., 1], scale, clamp)
    if inverse:
        return (u - t) * torch.exp(-s), -s
    return u * torch.exp(s) + t, s


class _Coupling(TransformModule):
    params_per_feature = 2

    def __init__(self, features: int, context: int, mask: Tensor | None, hidden: Sequence[int]):
        super().__init__()
        _check_features(features)
        if features < 2:
            raise UserError(f"features: coupling layers need features >= 2, got {features}")
        self.features, self.context = features, context
        mask = default_mask(features) if mask is None else torch.as_tensor(mask, dtype=torch.bool)
        if mask.shape != (features,) or mask.all() or not mask.any():
            raise UserError(f"mask: must be a ({features},) bool vector with both True and False")
        self.register_buffer("mask", mask)
        self.register_buffer("idx_a", torch.nonzero(mask).flatten())
        self.register_buffer("idx_b", torch.nonzero(~mask).flatten())
        n_a, n_b = len(self.idx_a), len(self.idx_b)
        self.net = MLP(n_a + context, n_b * self.params_per_feature, hidden)

    def _theta(self, z: Tensor, c: Tensor | None) -> Tensor:
        h = broadcast_context(z[..., self.idx_a], c, self.context)
        return self.net(h).unflatten(-1, (len(self.idx_b), self.params_per_feature))

    def _univariate(self, zb: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def _couple(self, z: Tensor, c: Tensor | None, inverse: bool) -> tuple[Tensor, Tensor]:
        theta = self._theta(z, c)
        zb = z[..., self.idx_b]
        shape = torch.broadcast_shapes(zb.shape, theta.shape[:-1])
        xb, ladj = self._univariate(zb.expand(shape), theta, inverse)
        x = z.expand(*shape[:-1], self.features).clone()
        x[..., self.idx_b] = xb
        return x, ladj.sum(-1)

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return self._couple(z, c, inverse=False)

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return self._couple(x, c, inverse=True)


class AdditiveCoupling(_Coupling):
    """NICE: ``x_B = z_B + t(z_A)``, ``ladj = 0``."""

    params_per_feature = 1

    def __init__(
        self,
        features: int,
        context: int = 0,
        mask: Tensor | None = None,
        hidden: Sequence[int] = (64, 64),
    ) -> None:
        super().__init__(features, context, mask, hidden)

    def _univariate(self, zb: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        t = theta[..., 0]
        return (zb - t if inverse else zb + t), torch.zeros_like(zb)


class AffineCoupling(_Coupling):
    """RealNVP: ``x_B = z_B * exp(s) + t`` with ``s = bound_scale(raw)``, ``ladj = sum s``."""

    def __init__(
        self,
        features: int,
        context: int = 0,
        mask: Tensor | None = None,
        hidden: Sequence[int] = (64, 64),
        scale: str = "softclamp",
        clamp: float = 3.0,
    ) -> None:
        super().__init__(features, context, mask, hidden)
        check_scale(scale)
        self.scale, self.clamp = scale, clamp

    def _univariate(self, zb: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        return affine_univariate(zb, theta, self.scale, self.clamp, inverse)


class SplineCoupling(_Coupling):
    """NSF coupling: ``x_B = RQS(z_B; theta(z_A))`` with ``bins`` bins on ``[-bound, bound]``."""

    def __init__(
        self,
        features: int,
        context: int = 0,
        mask: Tensor | None = None,
        hidden: Sequence[int] = (64, 64),
        bins: int = 8,
        bound: float = 4.0,
        tails: str = "linear",
    ) -> None:
        check_spline(bins, bound, tails)
        self.params_per_feature = 3 * bins - 1
        super().__init__(features, context, mask, hidden)
        self.bins, self.bound, self.tails = bins, bound, tails

    def _univariate(self, zb: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        return rq_spline(zb, theta, self.bins, self.bound, inverse=inverse, tails=self.tails)


def check_spline(bins: int, bound: float, tails: str) -> None:
    if not isinstance(bins, int) or bins < 2:
        raise UserError(f"bins: a spline needs bins >= 2, got {bins!r}")
    if not bound > 0:
        raise UserError(f"bound: must be > 0, got {bound!r}")
    if tails not in ("linear", "none"):
        raise UserError(f"tails: must be 'linear' or 'none', got {tails!r}")
