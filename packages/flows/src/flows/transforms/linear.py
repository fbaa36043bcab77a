"""Linear layers: permutations, reverse, LU-parametrised linear (review, "linear flows").

``LULinear``: ``x = P L (U + diag(s)) z + b`` with ``P`` a fixed permutation, ``L`` unit
lower-triangular, ``U`` strictly upper-triangular and ``s = exp(log_s) > 0``;
``ladj = sum_i log s_i``; the inverse is two triangular solves.
"""

from __future__ import annotations

import torch
from papershelf.errors import UserError
from torch import Tensor, nn

from flows.transforms.base import TransformModule, _check_features

__all__ = ["LULinear", "Permute", "Reverse"]


class Permute(TransformModule):
    """``x = z[..., perm]`` (``perm`` random from ``generator`` if not given); ``ladj = 0``."""

    def __init__(
        self, features: int, perm: Tensor | None = None, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        _check_features(features)
        self.features = features
        perm = (
            torch.randperm(features, generator=generator) if perm is None else torch.as_tensor(perm)
        )
        if sorted(perm.tolist()) != list(range(features)):
            raise UserError(
                f"perm: must be a permutation of 0..{features - 1}, got {perm.tolist()}"
            )
        self.register_buffer("perm", perm.long())
        self.register_buffer("inv_perm", torch.argsort(perm).long())

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return z[..., self.perm], z.new_zeros(z.shape[:-1])

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return x[..., self.inv_perm], x.new_zeros(x.shape[:-1])


class Reverse(Permute):
    """``x = z[..., ::-1]``."""

    def __init__(self, features: int) -> None:
        super().__init__(features, perm=torch.arange(features - 1, -1, -1))


class LULinear(TransformModule):
    """``x = W z + b`` with ``W = P L (U + diag(s))``, initialised at the identity."""

    def __init__(self, features: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        _check_features(features)
        self.features = features
        self.register_buffer("perm", torch.randperm(features, generator=generator))
        self.lower = nn.Parameter(torch.zeros(features, features))
        self.upper = nn.Parameter(torch.zeros(features, features))
        self.log_s = nn.Parameter(torch.zeros(features))
        self.bias = nn.Parameter(torch.zeros(features))
        self.register_buffer("tril_mask", torch.tril(torch.ones(features, features), -1))

    def _factors(self) -> tuple[Tensor, Tensor]:
        eye = torch.eye(self.features, dtype=self.lower.dtype, device=self.lower.device)
        lower = self.lower * self.tril_mask + eye
        upper = self.upper * self.tril_mask.t() + torch.diag(self.log_s.exp())
        return lower, upper

    def weight(self) -> Tensor:
        """The matrix ``W: (D, D)``."""
        lower, upper = self._factors()
        return (lower @ upper)[self.perm]

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        lower, upper = self._factors()
        x = ((z @ upper.t()) @ lower.t())[..., self.perm] + self.bias
        return x, self.log_s.sum().expand(z.shape[:-1])

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        lower, upper = self._factors()
        inv_perm = torch.argsort(self.perm)
        y = (x - self.bias)[..., inv_perm]
        flat = y.reshape(-1, self.features).t()
        w = torch.linalg.solve_triangular(lower, flat, upper=False, unitriangular=True)
        w = torch.linalg.solve_triangular(upper, w, upper=True)
        z = w.t().reshape(x.shape)
        return z, (-self.log_s.sum()).expand(x.shape[:-1])
