"""Normalizing flows: the review's families, tail-adaptive flows and equivariant finite flows.

Flows are ``nn.Module`` s whose call (optionally with a context) returns a
``torch.distributions.Distribution``::

    import flows
    flow = flows.MAF(features=2, transforms=5, base=flows.StudentT(2, df="shared"))
    d = flow()
    d.log_prob(x)                      # x: (batch, 2) -> (batch,)
    x, lp = d.rsample_and_log_prob((n,))

Importing ``flows`` is cheap: torch is imported when a public name is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Flow": "flows.flow",
    "MAF": "flows.flow",
    "IAF": "flows.flow",
    "NSF": "flows.flow",
    "NICE": "flows.flow",
    "RealNVP": "flows.flow",
    "TAF": "flows.flow",
    "PlanarFlow": "flows.flow",
    "RadialFlow": "flows.flow",
    "ResFlow": "flows.flow",
    "EquivariantFlow": "flows.equivariant",
    "GResFlow": "flows.equivariant",
    "GCoupling": "flows.equivariant",
    "GIAF": "flows.equivariant",
    "DiagNormal": "flows.distributions",
    "StudentT": "flows.distributions",
    "FlowDistribution": "flows.distributions",
    "FlowConfig": "flows.config",
    "build_flow": "flows.config",
    "fit": "flows.fitting",
    "save_flow": "flows.config",
    "load_flow": "flows.config",
}
_MODULES = ("transforms", "groups", "nn", "logdet", "tails", "metrics", "data")

__all__ = [*sorted(_EXPORTS), *_MODULES, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _MODULES:
        return importlib.import_module(f"flows.{name}")
    raise AttributeError(f"module 'flows' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
