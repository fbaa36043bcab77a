"""``AdapterLayer``: the base of an adapter that wraps one frozen ``nn.Linear``.

A method's layer (PEFT's ``BaseTunerLayer`` role) subclasses :class:`AdapterLayer`, adds its
own parameters in ``__init__`` (after ``super().__init__(base_layer)``), each named with the
method's prefix (``lora_A``, ``krona_A``, ...), and implements

* ``adapter_forward(x: (..., in)) -> (..., out)``: the adapter's additive output;
* ``delta_weight() -> (out, in)``: the same update as a dense matrix (for merging).

It inherits ``forward(x) = base_layer(x) + adapter_forward(x)`` (just ``base_layer(x)`` while
``merged`` or ``disabled``), ``merge(safe_merge=False)``, ``unmerge()``,
``adapter_state_dict()`` (every parameter not under ``base_layer``, keyed relative to the
layer, e.g. ``{"lora_A.weight": ..., "lora_B.weight": ...}``) and
``load_adapter_state_dict(sd)``. ``in_features``/``out_features``/``weight``/``bias`` mirror
the base layer.

``disabled_adapters(modules)`` is the context manager behind ``disable_adapter()``: it sets
each module's ``disabled`` flag (the base model's outputs) and clears it on exit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import torch
from torch import nn

from papershelf.errors import UserError

__all__ = ["AdapterLayer", "disabled_adapters"]


class AdapterLayer(nn.Module):
    """Base class of an adapter wrapping a frozen ``nn.Linear`` (``base_layer``).

    Subclasses add their parameters in ``__init__`` (after ``super().__init__(base_layer)``)
    and implement :meth:`adapter_forward` and :meth:`delta_weight`.
    """

    def __init__(self, base_layer: nn.Linear) -> None:
        super().__init__()
        if not isinstance(base_layer, nn.Linear):
            raise UserError(
                f"base_layer: only nn.Linear can be adapted, got {type(base_layer).__name__}"
            )
        self.base_layer = base_layer
        self.merged = False
        self.disabled = False
        for p in base_layer.parameters():
            p.requires_grad_(False)

    @property
    def in_features(self) -> int:
        return self.base_layer.in_features

    @property
    def out_features(self) -> int:
        return self.base_layer.out_features

    @property
    def weight(self) -> torch.Tensor:
        """The base layer's weight ``(out, in)`` (merged weight while ``merged``)."""
        return self.base_layer.weight

    @property
    def bias(self) -> torch.Tensor | None:
        return self.base_layer.bias

    def get_base_layer(self) -> nn.Linear:
        """The wrapped ``nn.Linear`` (PEFT's name)."""
        return self.base_layer

    def adapter_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The adapter's additive output, ``x: (..., in) -> (..., out)``."""
        raise NotImplementedError

    def delta_weight(self) -> torch.Tensor:
        """The adapter's update as a dense ``(out, in)`` matrix: forward == base + x @ ΔW.T."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base_layer(x)
        if self.merged or self.disabled:
            return out
        return out + self.adapter_forward(x).to(out.dtype)

    @torch.no_grad()
    def merge(self, safe_merge: bool = False) -> None:
        """Add ``delta_weight()`` into the base weight; with ``safe_merge`` refuse non-finite."""
        if self.merged:
            raise UserError("merge: this adapter layer is already merged; call unmerge() first")
        weight = self.base_layer.weight
        delta = self.delta_weight().to(weight.dtype)
        if safe_merge:
            merged = weight + delta
            if not torch.isfinite(merged).all():
                raise UserError("merge: the merged weight has NaN/inf values; adapter is broken")
            weight.copy_(merged)
        else:
            weight.add_(delta)
        self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Subtract the merged update again (restores the base weight to fp tolerance)."""
        if not self.merged:
            raise UserError("unmerge: this adapter layer is not merged")
        weight = self.base_layer.weight
        weight.sub_(self.delta_weight().to(weight.dtype))
        self.merged = False

    def adapter_state_dict(self) -> dict[str, torch.Tensor]:
        """Every parameter outside ``base_layer``, keyed relative to this layer."""
        return {
            name: p for name, p in self.named_parameters() if not name.startswith("base_layer.")
        }

    @torch.no_grad()
    def load_adapter_state_dict(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Copy tensors (keys as in :meth:`adapter_state_dict`) into this layer's parameters."""
        own = self.adapter_state_dict()
        for key, value in state_dict.items():
            if key not in own:
                raise UserError(f"adapter weights: unexpected key {key!r} for this layer")
            if tuple(own[key].shape) != tuple(value.shape):
                raise UserError(
                    f"adapter weights: {key!r} has shape {tuple(value.shape)}, "
                    f"expected {tuple(own[key].shape)}"
                )
            own[key].copy_(value)


@contextlib.contextmanager
def disabled_adapters(modules: Iterable[nn.Module]) -> Iterator[None]:
    """Within the block each module's ``disabled`` flag is set: it computes its base output."""
    modules = list(modules)
    for module in modules:
        module.disabled = True
    try:
        yield
    finally:
        for module in modules:
            module.disabled = False
