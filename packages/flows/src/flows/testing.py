"""Factories of every layer and flow family at a given D, for contract tests (ours and users').

Used by the package's tests; importable as ``flows.testing`` (imports pytest lazily)."""

from __future__ import annotations

import torch

import flows
from flows import groups
from flows import transforms as T
from flows.equivariant import GCouplingLayer, GIAFLayer, GResidualBlock
from flows.nn import SNLinear

# name -> (factory(D), allowed dims)
LAYERS = {
    "Affine": (lambda d: T.Affine(d), (1, 2, 3, 5)),
    "ActNorm": (lambda d: T.ActNorm(d), (1, 2, 3, 5)),
    "ActNormIso": (lambda d: T.ActNorm(d, isotropic=True), (2, 3)),
    "LeakyReLU": (lambda d: T.LeakyReLU(d, 0.3), (1, 2, 3, 5)),
    "Permute": (lambda d: T.Permute(d), (2, 3, 5)),
    "Reverse": (lambda d: T.Reverse(d), (2, 3, 5)),
    "LULinear": (lambda d: T.LULinear(d), (1, 2, 3, 5)),
    "AdditiveCoupling": (lambda d: T.AdditiveCoupling(d, hidden=(16,)), (2, 3, 5)),
    "AffineCoupling": (lambda d: T.AffineCoupling(d, hidden=(16,)), (2, 3, 5)),
    "SplineCoupling": (lambda d: T.SplineCoupling(d, hidden=(16,), bins=5, bound=2.0), (2, 3, 5)),
    "MAF-affine": (lambda d: T.MaskedAutoregressive(d, hidden=(16, 16)), (1, 2, 3, 5)),
    "MAF-spline": (
        lambda d: T.MaskedAutoregressive(d, hidden=(16,), univariate="spline", bins=4, bound=2.0),
        (2, 3, 5),
    ),
    "IAF": (lambda d: T.Inverse(T.MaskedAutoregressive(d, hidden=(16,))), (2, 3)),
    "Planar": (lambda d: T.Planar(d), (1, 2, 3, 5)),
    "Radial": (lambda d: T.Radial(d), (1, 2, 3, 5)),
    "Residual": (lambda d: T.ResidualBlock(d, hidden=(16,)), (1, 2, 3, 5)),
    "GResidual-C4": (lambda d: GResidualBlock(d, groups.C(4), hidden=(16,)), (2, 4)),
    "GCoupling-C4": (lambda d: GCouplingLayer(d, groups.C(4), hidden=(16,)), (4, 6)),
    "GCoupling-Perm3": (lambda d: GCouplingLayer(d, groups.Perm(3), hidden=(16,)), (6,)),
    "GIAF-C4": (lambda d: GIAFLayer(d, groups.C(4), hidden=(16,)), (4, 6)),
    "GIAF-D4": (lambda d: GIAFLayer(d, groups.D(4), hidden=(16,)), (4, 6)),
}


def _randomize(module: torch.nn.Module, scale: float = 0.5) -> None:
    """Move parameters off their (often identity) init so the tests see a non-trivial map."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "raw_beta" in name or "theta" in name or not p.requires_grad:
                continue
            p.add_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    for m in module.modules():
        if isinstance(m, SNLinear):
            m.power_iteration(200)  # the weights moved: re-estimate sigma


def layer_cases():
    for name, (factory, dims) in LAYERS.items():
        for d in dims:
            import pytest

            yield pytest.param(name, factory, d, id=f"{name}-D{d}")


def make_layer(factory, d: int) -> torch.nn.Module:
    torch.manual_seed(0)
    m = factory(d).double()
    _randomize(m)
    if isinstance(m, T.ActNorm):
        m.initialized.fill_(True)
    return m.eval()


FLOWS = {
    "MAF": lambda d: flows.MAF(d, transforms=2, hidden=(16,)),
    "IAF": lambda d: flows.IAF(d, transforms=2, hidden=(16,)),
    "NSF-AR": lambda d: flows.NSF(d, transforms=2, hidden=(16,), bins=4),
    "NSF-coupling": lambda d: flows.NSF(d, transforms=2, hidden=(16,), bins=4, mode="coupling"),
    "RealNVP": lambda d: flows.RealNVP(d, transforms=2, hidden=(16,)),
    "NICE": lambda d: flows.NICE(d, transforms=2, hidden=(16,)),
    "TAF": lambda d: flows.TAF(d, transforms=2, hidden=(16,)),
    "gTAF": lambda d: flows.TAF(d, transforms=2, hidden=(16,), df="per_dim"),
    "PlanarFlow": lambda d: flows.PlanarFlow(d, transforms=3),
    "RadialFlow": lambda d: flows.RadialFlow(d, transforms=3),
    "ResFlow": lambda d: flows.ResFlow(d, transforms=2, hidden=(16,)),
    "GResFlow": lambda d: flows.GResFlow(d, groups.C(4), transforms=2, hidden=(16,)),
    "GCoupling": lambda d: flows.GCoupling(d, groups.D(4), transforms=2, hidden=(16,)),
    "GIAF": lambda d: flows.GIAF(d, groups.C(4), transforms=2, hidden=(16,)),
}
FLOW_DIMS = {"GCoupling": 4, "GIAF": 4, "GResFlow": 2}
