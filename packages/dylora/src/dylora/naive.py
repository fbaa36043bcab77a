"""Slow, obviously-correct references used only as test oracles.

``lora_forward`` is a plain LoRA layer written from the formula with explicit tensors:
DyLoRA at rank b must equal it with ``A = W_dw[:b]``, ``B = W_up[:, :b]``, ``s = α/b``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["lora_forward", "sqrt_trick_delta"]


def lora_forward(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    a: torch.Tensor,
    b: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    """``x: (..., in)``, ``weight: (out, in)``, ``a: (r, in)``, ``b: (out, r)`` -> ``(..., out)``.

    ``h = x Wᵀ + bias + scale · (x aᵀ) bᵀ`` (LoRA, Hu et al. 2021, Eq. 3).
    """
    out = x @ weight.T
    if bias is not None:
        out = out + bias
    return out + scale * ((x @ a.T) @ b.T)


def sqrt_trick_delta(a: torch.Tensor, b: torch.Tensor, alpha: float, r_max: int) -> torch.Tensor:
    """The official code's ``(α/r_max)·(√(r_max/k)·B_k)(√(r_max/k)·A_k)`` with ``k = a.shape[0]``."""
    k = a.shape[0]
    factor = math.sqrt(r_max / k)
    return (alpha / r_max) * ((factor * b) @ (factor * a))
