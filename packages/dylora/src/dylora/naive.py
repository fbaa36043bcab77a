"""Slow, obviously-correct references used only as test oracles.

Each ``naive_<op>`` takes the same parameters, in the same order, as the fast ``<op>`` of
:mod:`dylora.functional`, so a test calls both with one set of arguments:

- ``naive_lora_update``: the LoRA branch written from the formula with explicit matrix
  products (Hu et al. 2021, Eq. 3); DyLoRA at rank b must equal ``x Wᵀ + bias`` plus it with
  ``a = W_dw[:b]``, ``b = W_up[:, :b]``, ``scale = α/b``.
- ``naive_truncated_delta_weight``: the rank-b update as the official DyLoRA code writes it,
  ``(α/r_max)·(√(r_max/b)·B_b)(√(r_max/b)·A_b)`` for the α/b rule (the "√ trick").

Renamed (the old names warn with ``DeprecationWarning`` for one release):
``lora_forward(x, weight, bias, a, b, scale)`` -> ``x @ weight.T + bias +
naive_lora_update(x, a, b, scale)``; ``sqrt_trick_delta(a, b, alpha, r_max)`` ->
``naive_truncated_delta_weight(lora_a, lora_b, rank, alpha, "alpha_over_b")``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["naive_lora_update", "naive_truncated_delta_weight"]


def naive_lora_update(
    x: torch.Tensor, a: torch.Tensor, b: torch.Tensor, scale: float
) -> torch.Tensor:
    """``x: (..., in)``, ``a: (k, in)``, ``b: (out, k)`` -> ``scale · (x aᵀ) bᵀ: (..., out)``."""
    return scale * ((x @ a.T) @ b.T)


def naive_truncated_delta_weight(
    lora_a: torch.Tensor, lora_b: torch.Tensor, rank: int, alpha: float, scaling: str
) -> torch.Tensor:
    """``lora_a: (r_max, in)``, ``lora_b: (out, r_max)`` -> ``ΔW_rank: (out, in)``.

    ``"alpha_over_b"``: the official code's ``(α/r_max)·(√(r_max/k)·B_k)(√(r_max/k)·A_k)``
    with ``k = rank``; ``"alpha_over_rmax"``: ``(α/r_max)·B_k·A_k``.
    """
    r_max = lora_a.shape[0]
    a, b = lora_a[:rank], lora_b[:, :rank]
    if scaling == "alpha_over_b":
        factor = math.sqrt(r_max / rank)
        return (alpha / r_max) * ((factor * b) @ (factor * a))
    return (alpha / r_max) * (b @ a)


def _lora_forward(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    a: torch.Tensor,
    b: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    out = x @ weight.T
    if bias is not None:
        out = out + bias
    return out + naive_lora_update(x, a, b, scale)


def _sqrt_trick_delta(a: torch.Tensor, b: torch.Tensor, alpha: float, r_max: int) -> torch.Tensor:
    k = a.shape[0]
    factor = math.sqrt(r_max / k)
    return (alpha / r_max) * ((factor * b) @ (factor * a))


_RENAMED: dict[str, tuple[Callable[..., Any], str]] = {
    "lora_forward": (_lora_forward, "x @ weight.T + bias + naive_lora_update(x, a, b, scale)"),
    "sqrt_trick_delta": (
        _sqrt_trick_delta,
        'naive_truncated_delta_weight(lora_a, lora_b, rank, alpha, "alpha_over_b")',
    ),
}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:  # the old names, kept for one release
        fn, instead = _RENAMED[name]
        warnings.warn(
            f"dylora.naive.{name} is deprecated; use {instead}", DeprecationWarning, stacklevel=2
        )
        return fn
    raise AttributeError(f"module 'dylora.naive' has no attribute {name!r}")
