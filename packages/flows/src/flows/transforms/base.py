"""The transform protocol every layer follows.

Conventions (fixed, tested for every layer):

- ``forward`` is the generative direction ``z -> x``; ``inverse`` is the normalizing
  direction ``x -> z`` (the direction of ``torch.distributions.TransformedDistribution``).
- ``call_and_ladj(z) -> (x, ladj)`` where ``ladj = log|det J|`` of the map just applied,
  shape ``(...,)`` for inputs ``(..., D)``.
- ``ladj_inv(x) = -ladj_fwd(f^{-1}(x))``.

A layer is an ``nn.Module`` (:class:`TransformModule`) holding the parameters; calling it
with an optional context ``c: (..., context)`` returns a real
``torch.distributions.Transform`` (:class:`FlowTransform`) bound to that context, as in zuko.
"""

from __future__ import annotations

import torch
from papershelf.errors import UserError
from torch import Tensor, nn
from torch.distributions import Transform, constraints

__all__ = [
    "ComposedFlowTransform",
    "FlowTransform",
    "Inverse",
    "InverseFlowTransform",
    "ModuleTransform",
    "TransformModule",
    "broadcast_context",
]


class FlowTransform(Transform):
    """A bijection of ``R^D`` with ``call_and_ladj`` in both directions (event dim 1)."""

    domain = constraints.real_vector
    codomain = constraints.real_vector
    bijective = True

    def __init__(self) -> None:
        super().__init__(cache_size=0)

    def call_and_ladj(self, z: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def inv_call_and_ladj(self, x: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _call(self, z: Tensor) -> Tensor:
        return self.call_and_ladj(z)[0]

    def _inverse(self, x: Tensor) -> Tensor:
        return self.inv_call_and_ladj(x)[0]

    def log_abs_det_jacobian(self, z: Tensor, x: Tensor) -> Tensor:
        return self.call_and_ladj(z)[1]

    @property
    def inv(self) -> FlowTransform:
        return InverseFlowTransform(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


class InverseFlowTransform(FlowTransform):
    """The inverse of a :class:`FlowTransform` (directions and ladj swapped)."""

    def __init__(self, base: FlowTransform) -> None:
        super().__init__()
        self.base = base

    def call_and_ladj(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return self.base.inv_call_and_ladj(z)

    def inv_call_and_ladj(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.base.call_and_ladj(x)

    @property
    def inv(self) -> FlowTransform:
        return self.base


class ComposedFlowTransform(FlowTransform):
    """``f = f_K o ... o f_1``: ``forward`` applies ``parts`` in order, ``inverse`` in reverse."""

    def __init__(self, parts: list[FlowTransform]) -> None:
        super().__init__()
        self.parts = list(parts)

    def call_and_ladj(self, z: Tensor) -> tuple[Tensor, Tensor]:
        total = z.new_zeros(z.shape[:-1])
        for part in self.parts:
            z, ladj = part.call_and_ladj(z)
            total = total + ladj
        return z, total

    def inv_call_and_ladj(self, x: Tensor) -> tuple[Tensor, Tensor]:
        total = x.new_zeros(x.shape[:-1])
        for part in reversed(self.parts):
            x, ladj = part.inv_call_and_ladj(x)
            total = total + ladj
        return x, total


class ModuleTransform(FlowTransform):
    """A :class:`TransformModule` bound to a context (what ``module(c)`` returns)."""

    def __init__(self, module: TransformModule, context: Tensor | None) -> None:
        super().__init__()
        self.module = module
        self.context = context

    def call_and_ladj(self, z: Tensor) -> tuple[Tensor, Tensor]:
        self.module.check_input(z)
        return self.module.forward_and_ladj(z, self.context)

    def inv_call_and_ladj(self, x: Tensor) -> tuple[Tensor, Tensor]:
        self.module.check_input(x)
        return self.module.inverse_and_ladj(x, self.context)


class TransformModule(nn.Module):
    """Base of every layer: parameters live here; ``module(c)`` returns the Transform.

    Subclasses implement ``forward_and_ladj(z, c)`` (generative) and
    ``inverse_and_ladj(x, c)`` (normalizing), both on ``(..., features)`` tensors, and
    set ``self.features`` and ``self.context``.
    """

    features: int
    context: int = 0

    def forward(self, c: Tensor | None = None) -> FlowTransform:
        return ModuleTransform(self, c)

    def check_input(self, x: Tensor) -> None:
        if x.ndim < 1 or x.shape[-1] != self.features:
            got = tuple(x.shape)
            raise UserError(
                f"x: {type(self).__name__} expects (..., {self.features}) inputs, got shape {got}"
            )

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def equivariant_under(self, group: object) -> bool:
        """Whether this layer commutes with ``group`` (False unless a layer knows better)."""
        return False


class Inverse(TransformModule):
    """``Inverse(layer)`` swaps a layer's directions, e.g. ``IAF = Inverse(MAF layer)``."""

    def __init__(self, layer: TransformModule) -> None:
        super().__init__()
        self.layer = layer
        self.features = layer.features
        self.context = layer.context

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return self.layer.inverse_and_ladj(z, c)

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return self.layer.forward_and_ladj(x, c)

    def equivariant_under(self, group: object) -> bool:
        return self.layer.equivariant_under(group)


def _check_features(features: int) -> None:
    if not isinstance(features, int) or features < 1:
        raise UserError(f"features: must be an integer >= 1, got {features!r}")


def broadcast_context(x: Tensor, c: Tensor | None, context: int) -> Tensor:
    """Concatenate ``x: (..., D)`` and ``c: (..., context)`` after broadcasting their batch dims."""
    if context == 0:
        if c is not None:
            raise UserError(
                "context: this layer is unconditional (context=0) but a context was given"
            )
        return x
    if c is None:
        raise UserError(f"context: this layer needs a context of {context} features, got none")
    if c.shape[-1] != context:
        raise UserError(f"context: expected (..., {context}) context, got shape {tuple(c.shape)}")
    shape = torch.broadcast_shapes(x.shape[:-1], c.shape[:-1])
    return torch.cat([x.expand(*shape, x.shape[-1]), c.expand(*shape, context)], dim=-1)
