"""Layers. Each is an ``nn.Module``; ``layer(c)`` returns a ``torch.distributions.Transform``
with ``call_and_ladj`` (generative ``z -> x``) and ``inv`` (normalizing ``x -> z``)."""

from flows.transforms.autoregressive import MaskedAutoregressive
from flows.transforms.base import (
    ComposedFlowTransform,
    FlowTransform,
    Inverse,
    ModuleTransform,
    TransformModule,
)
from flows.transforms.coupling import AdditiveCoupling, AffineCoupling, SplineCoupling
from flows.transforms.elementwise import ActNorm, Affine, LeakyReLU
from flows.transforms.linear import LULinear, Permute, Reverse
from flows.transforms.planar import Planar, Radial
from flows.transforms.residual import ResidualBlock
from flows.transforms.spline import rq_spline

__all__ = [
    "ActNorm",
    "AdditiveCoupling",
    "Affine",
    "AffineCoupling",
    "ComposedFlowTransform",
    "FlowTransform",
    "Inverse",
    "LULinear",
    "LeakyReLU",
    "MaskedAutoregressive",
    "ModuleTransform",
    "Permute",
    "Planar",
    "Radial",
    "ResidualBlock",
    "Reverse",
    "SplineCoupling",
    "TransformModule",
    "rq_spline",
]
