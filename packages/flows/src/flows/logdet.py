"""Log-determinant estimators for residual blocks ``I + J_g`` with ``Lip(g) < 1``.

- ``exact(J)``: ``log|det(I + J)|`` by ``slogdet`` (use at D <= ~10).
- ``power_series(vjp, v, n_terms)``: truncated ``sum_{k=1}^n (-1)^{k+1} v^T J^k v / k``
  (Behrmann et al. 2019) - **biased**.
- ``russian_roulette(vjp, v, ...)``: the unbiased estimator of Chen et al. 2019 (eq. 6):
  ``N ~ Geometric(p)`` extra terms after ``n_exact_terms``, each term reweighted by
  ``1/P(N >= k)``.

``vjp(w)`` must return ``w^T J`` for ``w: (batch, D)``; ``v`` is Hutchinson noise.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from papershelf.errors import UserError
from torch import Tensor

__all__ = ["exact", "power_series", "russian_roulette"]


def exact(jac: Tensor) -> Tensor:
    """``log|det(I + J)|`` for ``jac: (..., D, D)`` -> ``(...,)`` (closed form for D <= 2)."""
    d = jac.shape[-1]
    if d == 1:
        return torch.log(torch.abs(1 + jac[..., 0, 0]))
    if d == 2:
        a, b = 1 + jac[..., 0, 0], jac[..., 0, 1]
        c, e = jac[..., 1, 0], 1 + jac[..., 1, 1]
        return torch.log(torch.abs(a * e - b * c))
    eye = torch.eye(jac.shape[-1], dtype=jac.dtype, device=jac.device)
    return torch.linalg.slogdet(eye + jac).logabsdet


def power_series(vjp: Callable[[Tensor], Tensor], v: Tensor, n_terms: int = 5) -> Tensor:
    """Truncated power series with one Hutchinson vector ``v: (batch, D)`` -> ``(batch,)``."""
    if n_terms < 1:
        raise UserError(f"n_terms: must be >= 1, got {n_terms}")
    w, total = v, v.new_zeros(v.shape[:-1])
    for k in range(1, n_terms + 1):
        w = vjp(w)
        total = total + (-1) ** (k + 1) / k * (w * v).sum(-1)
    return total


def russian_roulette(
    vjp: Callable[[Tensor], Tensor],
    v: Tensor,
    p: float = 0.5,
    n_exact_terms: int = 10,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Unbiased estimate of ``log det(I + J)`` (one roulette draw shared by the batch).

    With ``N ~ Geometric(p)`` on ``{0, 1, ...}`` (``P(N >= j) = (1-p)^j``), the estimate is
    ``sum_{k=1}^{n_exact + N} (-1)^{k+1}/k v^T J^k v / P(N >= k - n_exact)``.
    """
    if not 0 < p < 1:
        raise UserError(f"p: the roulette probability must be in (0, 1), got {p}")
    if n_exact_terms < 0:
        raise UserError(f"n_exact_terms: must be >= 0, got {n_exact_terms}")
    u = torch.rand((), generator=generator).item()
    extra = 0
    while u < (1 - p) ** (extra + 1):
        extra += 1
    w, total = v, v.new_zeros(v.shape[:-1])
    for k in range(1, n_exact_terms + extra + 1):
        w = vjp(w)
        weight = 1.0 / (1 - p) ** max(k - n_exact_terms, 0)
        total = total + (-1) ** (k + 1) / k * weight * (w * v).sum(-1)
    return total
