"""Flows: a list of layers and a base; ``flow(c)`` returns a :class:`FlowDistribution`.

``Flow(transforms, base)``: ``transforms[0]`` is applied first in the generative direction
(``z -> x``), so ``log p(x)`` walks the list backwards. The families below are the
review's classics with zuko-like arguments (``features``, ``context``, ``transforms``,
``hidden``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from papershelf.errors import UserError
from torch import Tensor, nn

from flows.distributions import DiagNormal, FlowDistribution, StudentT
from flows.nn import SNLinear
from flows.transforms.autoregressive import MaskedAutoregressive
from flows.transforms.base import (
    ComposedFlowTransform,
    Inverse,
    TransformModule,
    _check_features,
)
from flows.transforms.coupling import AdditiveCoupling, AffineCoupling, SplineCoupling, default_mask
from flows.transforms.elementwise import ActNorm
from flows.transforms.planar import Planar, Radial
from flows.transforms.residual import ResidualBlock

__all__ = [
    "IAF",
    "MAF",
    "NICE",
    "NSF",
    "TAF",
    "Flow",
    "PlanarFlow",
    "RadialFlow",
    "RealNVP",
    "ResFlow",
]


class Flow(nn.Module):
    """A normalizing flow: ``x = f_K(...f_1(z))``, ``z ~ base``.

    Args:
        transforms: layers (``TransformModule``), applied in order in the generative direction.
        base: a module whose call returns a distribution with event shape ``(D,)``.
    """

    def __init__(self, transforms: Sequence[TransformModule], base: nn.Module) -> None:
        super().__init__()
        if len(transforms) < 1:
            raise UserError("transforms: a flow needs at least one transform")
        self.transforms = nn.ModuleList(transforms)
        self.base = base
        self.features = transforms[0].features
        self.context = max(t.context for t in transforms)
        for t in transforms:
            if t.features != self.features:
                raise UserError(
                    f"transforms: every layer must have {self.features} features, "
                    f"{type(t).__name__} has {t.features}"
                )

    def forward(self, c: Tensor | None = None) -> FlowDistribution:
        """``c: (..., context)`` or ``None`` -> a distribution with batch shape ``c.shape[:-1]``."""
        if self.context == 0 and c is not None:
            raise UserError(
                "context: this flow is unconditional (context=0) but a context was given"
            )
        if self.context > 0:
            if c is None:
                raise UserError(f"context: this flow needs a context of {self.context} features")
            if c.shape[-1] != self.context:
                raise UserError(f"context: expected (..., {self.context}), got {tuple(c.shape)}")
        if self.training and torch.is_grad_enabled():
            for m in self.modules():
                if isinstance(m, SNLinear):
                    m.power_iteration(m.n_power_iter)
        transform = ComposedFlowTransform([t(c) if t.context else t() for t in self.transforms])
        base = self.base()
        if c is not None and c.ndim > 1:
            base = base.expand(c.shape[:-1])
        return FlowDistribution(transform, base)

    def param_groups(self, lr: float, df_lr_mult: float = 10.0) -> list[dict]:
        """Optimizer groups: the Student-t ``theta`` gets ``df_lr_mult * lr`` (tails paper)."""
        df = [p for n, p in self.named_parameters() if n.startswith("base.theta")]
        rest = [
            p
            for n, p in self.named_parameters()
            if not n.startswith("base.theta") and p.requires_grad
        ]
        groups = [{"params": rest, "lr": lr}]
        if df:
            groups.append({"params": df, "lr": lr * df_lr_mult})
        return groups


def _check(features: int, transforms: int, context: int = 0) -> None:
    _check_features(features)
    if not isinstance(transforms, int) or transforms < 1:
        raise UserError(f"transforms: must be an integer >= 1, got {transforms!r}")
    if context < 0:
        raise UserError(f"context: must be >= 0, got {context}")


def _base(features: int, base: nn.Module | None) -> nn.Module:
    if base is None:
        return DiagNormal(features)
    if getattr(base, "features", features) != features:
        raise UserError(f"base: has {base.features} features, the flow has {features}")
    return base


def _orders(features: int, transforms: int) -> list[Tensor]:
    return [
        torch.arange(features) if i % 2 == 0 else torch.arange(features - 1, -1, -1)
        for i in range(transforms)
    ]


class MAF(Flow):
    """Masked autoregressive flow (affine MADE layers, alternating orders)."""

    def __init__(
        self,
        features: int,
        context: int = 0,
        transforms: int = 3,
        hidden: Sequence[int] = (64, 64),
        base: nn.Module | None = None,
        scale: str = "softclamp",
        univariate: str = "affine",
        **kwargs,
    ) -> None:
        _check(features, transforms, context)
        layers = [
            MaskedAutoregressive(
                features, context, hidden, univariate=univariate, order=o, scale=scale, **kwargs
            )
            for o in _orders(features, transforms)
        ]
        super().__init__(layers, _base(features, base))


class IAF(Flow):
    """Inverse autoregressive flow: each layer is ``Inverse(MaskedAutoregressive)``."""

    def __init__(
        self,
        features: int,
        context: int = 0,
        transforms: int = 3,
        hidden: Sequence[int] = (64, 64),
        base: nn.Module | None = None,
        **kwargs,
    ) -> None:
        _check(features, transforms, context)
        layers = [
            Inverse(MaskedAutoregressive(features, context, hidden, order=o, **kwargs))
            for o in _orders(features, transforms)
        ]
        super().__init__(layers, _base(features, base))


class NSF(Flow):
    """Neural spline flow: RQ-spline couplings (``mode="coupling"``) or RQ-AR (``"autoregressive"``)."""

    def __init__(
        self,
        features: int,
        context: int = 0,
        transforms: int = 3,
        hidden: Sequence[int] = (64, 64),
        bins: int = 8,
        bound: float = 4.0,
        mode: str = "autoregressive",
        base: nn.Module | None = None,
    ) -> None:
        _check(features, transforms, context)
        if mode not in ("coupling", "autoregressive"):
            raise UserError(f"mode: must be 'coupling' or 'autoregressive', got {mode!r}")
        if mode == "coupling":
            layers = [
                SplineCoupling(features, context, default_mask(features, i), hidden, bins, bound)
                for i in range(transforms)
            ]
        else:
            layers = [
                MaskedAutoregressive(features, context, hidden, "spline", o, bins=bins, bound=bound)
                for o in _orders(features, transforms)
            ]
        super().__init__(layers, _base(features, base))


class RealNVP(Flow):
    """Affine couplings with alternating masks (Dinh et al. 2017)."""

    def __init__(
        self,
        features: int,
        context: int = 0,
        transforms: int = 4,
        hidden: Sequence[int] = (64, 64),
        scale: str = "softclamp",
        base: nn.Module | None = None,
    ) -> None:
        _check(features, transforms, context)
        layers = [
            AffineCoupling(features, context, default_mask(features, i), hidden, scale)
            for i in range(transforms)
        ]
        super().__init__(layers, _base(features, base))


class NICE(Flow):
    """Additive couplings and a final elementwise scaling (Dinh et al. 2015)."""

    def __init__(
        self,
        features: int,
        context: int = 0,
        transforms: int = 4,
        hidden: Sequence[int] = (64, 64),
        base: nn.Module | None = None,
    ) -> None:
        _check(features, transforms, context)
        layers: list[TransformModule] = [ActNorm(features)]
        layers += [
            AdditiveCoupling(features, context, default_mask(features, i), hidden)
            for i in range(transforms)
        ]
        super().__init__(layers, _base(features, base))


class TAF(MAF):
    """Tail-adaptive flow: a MAF on a Student-t base with learnable nu (tails paper).

    ``df="shared"`` is TAF, ``df="per_dim"`` is gTAF. Train with ``flow.param_groups(lr)``
    so that nu gets a 10x learning rate.
    """

    def __init__(
        self,
        features: int,
        context: int = 0,
        transforms: int = 3,
        hidden: Sequence[int] = (64, 64),
        df: str | float = "shared",
        df_init: float = 10.0,
        df_min: float = 0.5,
        df_param: str = "log",
        **kwargs,
    ) -> None:
        base = StudentT(features, df=df, df_init=df_init, df_min=df_min, df_param=df_param)
        super().__init__(features, context, transforms, hidden, base=base, **kwargs)


class PlanarFlow(Flow):
    """A stack of tanh planar layers."""

    def __init__(self, features: int, transforms: int = 8, base: nn.Module | None = None) -> None:
        _check(features, transforms)
        super().__init__([Planar(features) for _ in range(transforms)], _base(features, base))


class RadialFlow(Flow):
    """A stack of radial layers."""

    def __init__(self, features: int, transforms: int = 8, base: nn.Module | None = None) -> None:
        _check(features, transforms)
        super().__init__([Radial(features) for _ in range(transforms)], _base(features, base))


class ResFlow(Flow):
    """Residual flow: ``transforms`` invertible residual blocks (defaults: exact log-det)."""

    def __init__(
        self,
        features: int,
        transforms: int = 4,
        hidden: Sequence[int] = (32, 32),
        coeff: float = 0.97,
        logdet: str = "exact",
        base: nn.Module | None = None,
        **kwargs,
    ) -> None:
        _check(features, transforms)
        layers = [
            ResidualBlock(features, hidden, coeff, logdet, **kwargs) for _ in range(transforms)
        ]
        super().__init__(layers, _base(features, base))
