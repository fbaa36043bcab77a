"""The LoRA baseline KronA is compared with (Hu et al. 2021), on ``papershelf.adapters``.

``y = W₀x + b + (α/r)·U·D·drop(x)`` with ``D = lora_A: (r, in)`` (Kaiming-uniform) and
``U = lora_B: (out, r)`` (zero), so the model starts as the pretrained one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from papershelf import adapters
from torch import nn

__all__ = ["LoRALinear", "add_lora", "lora_linear"]


def lora_linear(x: torch.Tensor, lora_A: torch.Tensor, lora_B: torch.Tensor) -> torch.Tensor:
    """``x @ (lora_B @ lora_A)ᵀ`` without forming ``lora_B @ lora_A``.

    ``x: (..., in)``, ``lora_A: (r, in)``, ``lora_B: (out, r)`` → ``(..., out)``.
    """
    return nn.functional.linear(nn.functional.linear(x, lora_A), lora_B)


class LoRALinear(adapters.AdapterLayer):
    """A frozen ``nn.Linear`` plus a rank-``r`` update; ``forward(x: (..., in)) -> (..., out)``."""

    def __init__(
        self, base_layer: nn.Linear, r: int, alpha: float | None = None, dropout: float = 0.0
    ) -> None:
        super().__init__(base_layer)
        if r < 1:
            raise ValueError(f"r: must be >= 1, got {r}")
        w = base_layer.weight
        self.lora_A = nn.Parameter(
            torch.empty(r, base_layer.in_features, device=w.device, dtype=w.dtype)
        )
        self.lora_B = nn.Parameter(
            torch.zeros(base_layer.out_features, r, device=w.device, dtype=w.dtype)
        )
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = (alpha if alpha is not None else r) / r
        self.lora_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def adapter_forward(self, x: torch.Tensor) -> torch.Tensor:
        A, B = self.lora_A.to(x.dtype), self.lora_B.to(x.dtype)
        return self.scaling * lora_linear(self.lora_dropout(x), A, B)

    def delta_weight(self) -> torch.Tensor:
        return self.scaling * (self.lora_B.float() @ self.lora_A.float())


def add_lora(
    model: nn.Module,
    r: int,
    alpha: float | None = None,
    target_modules: Sequence[str] | str | None = ("query", "value"),
    modules_to_save: Sequence[str] | None = None,
) -> nn.Module:
    """Inject ``LoRALinear`` (rank ``r``, scale ``alpha/r``; default ``alpha = r``) and freeze the rest."""
    names = adapters.resolve_target_modules(
        model,
        list(target_modules) if not isinstance(target_modules, str | None) else target_modules,
        modules_to_save=modules_to_save,
    )
    adapters.inject_adapters(model, names, lambda _, lin: LoRALinear(lin, r, alpha))
    adapters.mark_only_adapters_trainable(model, modules_to_save)
    return model
