"""Pure tensor ops of a DyLoRA layer (no module state; :class:`dylora.layer.DyLoRALinear` uses them).

With ``lora_A.weight = W_dw: (r_max, in)`` and ``lora_B.weight = W_up: (out, r_max)``:

- :func:`lora_update` is the adapter branch of a rank-k LoRA, ``scale · (x aᵀ) bᵀ``, for the
  already truncated ``a = W_dw[:k]``, ``b = W_up[:, :k]`` (Eq. 7);
- :func:`truncated_delta_weight` is the dense rank-b update ``ΔW_b = s(b) · W_up[:, :b] · W_dw[:b]``
  with ``s(b) = α/b`` (``"alpha_over_b"``) or ``α/r_max`` (``"alpha_over_rmax"``).

Their oracles are :mod:`dylora.naive`'s ``naive_lora_update`` and ``naive_truncated_delta_weight``
(same parameters).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["lora_update", "truncated_delta_weight"]


def lora_update(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor, scale: float) -> torch.Tensor:
    """``x: (..., in)``, ``a: (k, in)``, ``b: (out, k)`` -> ``scale · (x aᵀ) bᵀ: (..., out)``."""
    return F.linear(F.linear(x, a), b) * scale


def truncated_delta_weight(
    lora_a: torch.Tensor, lora_b: torch.Tensor, rank: int, alpha: float, scaling: str
) -> torch.Tensor:
    """``lora_a: (r_max, in)``, ``lora_b: (out, r_max)`` -> ``ΔW_rank: (out, in)``.

    ``s · lora_b[:, :rank] @ lora_a[:rank]`` with ``s = alpha / rank`` for ``scaling ==
    "alpha_over_b"``, else ``alpha / r_max`` (``r_max = lora_a.shape[0]``).
    """
    r_max = lora_a.shape[0]
    scale = alpha / (rank if scaling == "alpha_over_b" else r_max)
    return (lora_b[:, :rank] @ lora_a[:rank]) * scale
