"""Tail diagnostics (tails paper).

Convention: a density with survival ``P(|X| > x) ~ x^{-nu}`` has **tail index nu** (the
Student-t degrees of freedom); Parzen's density-quantile exponent is ``alpha = 1 + 1/nu``.
The Hill estimator on the top ``k`` order statistics of ``|X|`` estimates ``nu``:
``nu_hat = [1/k sum_{i<=k} log(X_(i) / X_(k+1))]^{-1}``.
"""

from __future__ import annotations

import math

import torch
from papershelf.errors import UserError
from torch import Tensor

__all__ = ["far_tail_gap", "hill", "parzen_alpha", "t2_tail_sample", "tail_index_nu"]


def hill(x: Tensor, k: int | float = 0.005) -> Tensor:
    """Hill estimate of the tail index ``nu`` per column.

    Args:
        x: ``(n,)`` or ``(n, D)`` samples.
        k: number of top order statistics (int, ``10 <= k < n``) or a fraction of ``n``.

    Returns:
        ``()`` or ``(D,)``.
    """
    a = x.abs().double()
    n = a.shape[0]
    kk = round(k * n) if isinstance(k, float) and k < 1 else int(k)
    if kk < 10 or kk >= n:
        raise UserError(f"k: the Hill estimator needs 10 <= k < n={n} order statistics, got k={kk}")
    top = torch.sort(a, dim=0, descending=True).values[: kk + 1]
    logs = torch.log(top[:kk]) - torch.log(top[kk : kk + 1])
    return 1.0 / logs.mean(0)


tail_index_nu = hill


def parzen_alpha(nu: float | Tensor) -> float | Tensor:
    """Parzen's tail exponent ``alpha = 1 + 1/nu`` (t_nu: 1 + 1/nu; Cauchy: 2)."""
    return 1 + 1 / nu


def t2_tail_sample(
    n: int,
    radius: float,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """``n`` draws of a t_2 variable conditioned on ``X > radius`` (exact inverse CDF).

    For t_2, ``S(x) = (1 - x / sqrt(x^2 + 2)) / 2`` and ``S^{-1}(s) = (1 - 2s) sqrt(2 / (1 - (1-2s)^2))``.
    """
    x = torch.tensor(float(radius), dtype=torch.float64)
    s_r = 0.5 * (1 - x / torch.sqrt(x**2 + 2))
    u = torch.rand(n, generator=generator, dtype=torch.float64) * s_r
    q = 1 - 2 * u  # in (1 - 2 S(R), 1)
    out = q * torch.sqrt(2 / (1 - q**2).clamp_min(1e-300))
    return out.to(dtype)


def far_tail_gap(log_p_true: Tensor, log_p_model: Tensor) -> float:
    """Mean ``log p_true - log p_model`` over far-tail points (a KL restricted to the tail)."""
    return float((log_p_true - log_p_model).mean())


def t_logpdf(x: Tensor, nu: float) -> Tensor:
    """Univariate Student-t log density (elementwise)."""
    return (
        math.lgamma((nu + 1) / 2)
        - math.lgamma(nu / 2)
        - 0.5 * math.log(nu * math.pi)
        - (nu + 1) / 2 * torch.log1p(x**2 / nu)
    )
