"""Masked autoregressive layers (Papamakarios et al. 2017; Kingma et al. 2016).

``x_i = h(z_i; theta_i(x_{<i}, c))`` with a MADE conditioner. The normalizing direction
(``inverse``, MAF density) is one MADE pass: ``z_i = (x_i - mu_i) exp(-alpha_i)``,
``ladj_inv = -sum alpha_i``. The generative direction (sampling) takes ``D`` passes.
``Inverse(MaskedAutoregressive(...))`` is an IAF: cheap sampling, sequential density.
``h`` is affine (bounded log-scale) or a rational-quadratic spline (NSF-AR).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from papershelf.errors import UserError
from torch import Tensor

from flows.nn import MADE
from flows.transforms.base import TransformModule, _check_features, broadcast_context
from flows.transforms.coupling import affine_univariate, check_scale, check_spline
from flows.transforms.spline import rq_spline

__all__ = ["MaskedAutoregressive"]


class MaskedAutoregressive(TransformModule):
    """One MAF layer. ``univariate="affine"`` or ``"spline"``; ``order`` permutes the AR order."""

    def __init__(
        self,
        features: int,
        context: int = 0,
        hidden: Sequence[int] = (64, 64),
        univariate: str = "affine",
        order: Tensor | None = None,
        scale: str = "softclamp",
        clamp: float = 3.0,
        bins: int = 8,
        bound: float = 4.0,
        tails: str = "linear",
    ) -> None:
        super().__init__()
        _check_features(features)
        if univariate not in ("affine", "spline"):
            raise UserError(f"univariate: must be 'affine' or 'spline', got {univariate!r}")
        if univariate == "spline":
            check_spline(bins, bound, tails)
        check_scale(scale)
        self.features, self.context, self.univariate = features, context, univariate
        self.scale, self.clamp, self.bins, self.bound, self.tails = scale, clamp, bins, bound, tails
        params = 2 if univariate == "affine" else 3 * bins - 1
        self.made = MADE(features, params, context, hidden, order=order)
        order = torch.arange(features) if order is None else torch.as_tensor(order)
        self.register_buffer("order", order.long())

    def _h(self, u: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        if self.univariate == "affine":
            return affine_univariate(u, theta, self.scale, self.clamp, inverse)
        return rq_spline(u, theta, self.bins, self.bound, inverse=inverse, tails=self.tails)

    def _theta(self, x: Tensor, c: Tensor | None) -> Tensor:
        return self.made(broadcast_context(x, c, self.context))

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        theta = self._theta(x, c)
        shape = theta.shape[:-1]
        z, ladj = self._h(x.expand(shape), theta, inverse=True)
        return z, ladj.sum(-1)

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        x = torch.zeros_like(z)
        ladj = torch.zeros_like(z)
        for _ in range(self.features):
            theta = self._theta(x, c)
            shape = theta.shape[:-1]
            x, ladj = self._h(z.expand(shape), theta, inverse=False)
        return x, ladj.sum(-1)
