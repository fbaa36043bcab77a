"""``DyLoRALinear``: a frozen ``nn.Linear`` (or GPT-2 ``Conv1D``) plus a rank-truncatable LoRA update.

With ``W_dw = lora_A.weight: (r_max, in)`` and ``W_up = lora_B.weight: (out, r_max)``
(PEFT's names and layout), the layer at rank b computes (Eq. 5, Eq. 7)::

    h = W₀x + bias + s(b) · W_up[:, :b] · (W_dw[:b, :] · drop(x)),   s(b) = α/b  (or α/r_max)

The rank is state (``layer.rank``, 1-based) that the wrapping model sets; the forward never
samples. In ``update_mode="frozen"`` the rows/columns 1..b-1 are detached during training,
so only row b of ``W_dw`` and column b of ``W_up`` get a gradient (Eq. 10).

A GPT-2 ``Conv1D`` base (weight ``(in, out)``, PEFT's ``fan_in_fan_out``) keeps the same
adapter layout; only merging transposes ΔW into the base weight.
"""

from __future__ import annotations

import math

import torch
from papershelf.adapters import AdapterLayer
from papershelf.errors import UserError
from torch import nn

from dylora.config import DyLoRAConfig
from dylora.functional import lora_update, truncated_delta_weight

__all__ = ["DyLoRALinear"]


class DyLoRALinear(AdapterLayer):
    """DyLoRA adapter around ``base: nn.Linear(in, out)`` or ``Conv1D``; device and dtype follow ``base``.

    Attributes:
        lora_A: ``nn.Linear(in, r_max, bias=False)``; its weight is ``W_dw: (r_max, in)``.
        lora_B: ``nn.Linear(r_max, out, bias=False)``; its weight is ``W_up: (out, r_max)``.
        rank: the active rank b (1-based), in [r_min, r_max].
        merged_rank: the rank merged into ``base_layer.weight``, or ``None``.
        disabled: while true the layer computes ``base_layer(x)`` only (``disable_adapter``;
            the flag and ``forward`` are :class:`papershelf.adapters.AdapterLayer`'s).
    """

    def __init__(self, base: nn.Module, config: DyLoRAConfig) -> None:
        super().__init__(base)
        self.config = config
        weight = base.weight
        dtype = weight.dtype if weight.is_floating_point() and weight.element_size() >= 2 else None
        kw = {"device": weight.device, "dtype": dtype}
        self.lora_A = nn.Linear(self.in_features, config.r_max, bias=False, **kw)
        self.lora_B = nn.Linear(config.r_max, self.out_features, bias=False, **kw)
        self.lora_dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()
        self._rank = config.resolved_eval_rank
        self.merged_rank: int | None = None
        self.reset_adapter_parameters()

    @torch.no_grad()
    def reset_adapter_parameters(self) -> None:
        """``W_dw``: Kaiming-uniform (a=√5) or N(0, 1/r_max²); ``W_up = 0`` so ΔW = 0 at any b."""
        if self.config.init == "kaiming":
            nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        else:
            nn.init.normal_(self.lora_A.weight, std=1.0 / self.config.r_max)
        nn.init.zeros_(self.lora_B.weight)

    @property
    def rank(self) -> int:
        return self._rank

    @rank.setter
    def rank(self, b: int) -> None:
        b = self.config.check_rank(b)
        if self.merged and b != self.merged_rank:
            raise UserError(
                f"rank: the adapter is merged at rank {self.merged_rank}; unmerge before set_rank({b})"
            )
        self._rank = b

    def active_weights(self, b: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(W_dw[:b]: (b, in), W_up[:, :b]: (out, b))``, with the frozen-mode detach in training."""
        b = self._rank if b is None else self.config.check_rank(b)
        a = self.lora_A.weight[:b]
        up = self.lora_B.weight[:, :b]
        if self.config.update_mode == "frozen" and self.training and b > 1:
            a = torch.cat([a[: b - 1].detach(), a[b - 1 :]], dim=0)
            up = torch.cat([up[:, : b - 1].detach(), up[:, b - 1 :]], dim=1)
        return a, up

    def adapter_forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: (..., in) -> (..., out)``: ``s(b)·W_up↓b·W_dw↓b·drop(x)`` (Eq. 7)."""
        a, up = self.active_weights()
        x = self.lora_dropout(x).to(a.dtype)
        return lora_update(x, a, up, self.config.scale(self._rank))

    def delta_weight(self, b: int | None = None) -> torch.Tensor:
        """``ΔW_b = s(b)·W_up[:, :b]·W_dw[:b]: (out, in)`` (default b: the active rank)."""
        b = self._rank if b is None else self.config.check_rank(b)
        c = self.config
        return truncated_delta_weight(self.lora_A.weight, self.lora_B.weight, b, c.alpha, c.scaling)

    @torch.no_grad()
    def merge(self, rank: int | None = None, safe_merge: bool = False) -> None:
        """Add ``ΔW_rank`` (default: the active rank) into the base weight and record the rank."""
        if self.merged:
            raise UserError(
                f"merge: already merged at rank {self.merged_rank}; call unmerge() first"
            )
        if rank is not None:
            self.rank = rank
        super().merge(safe_merge=safe_merge)
        self.merged_rank = self._rank

    @torch.no_grad()
    def unmerge(self) -> None:
        """Subtract the ``ΔW`` of the recorded merged rank (never of the current one)."""
        if not self.merged:
            raise UserError("unmerge: this adapter layer is not merged")
        weight = self.base_layer.weight
        assert self.merged_rank is not None
        weight.sub_(self.to_base_layout(self.delta_weight(self.merged_rank)).to(weight.dtype))
        self.merged = False
        self.merged_rank = None

    def extra_repr(self) -> str:
        c = self.config
        return (
            f"in={self.in_features}, out={self.out_features}, r_max={c.r_max}, rank={self._rank}, "
            f"alpha={c.alpha}, scaling={c.scaling}, update_mode={c.update_mode}"
        )
