"""ReGLA (Lu et al., NAACL 2025): refining gated linear attention.

Public API (torch is imported on first use of a tensor op, not by ``import regla``)::

    from regla import ReGLAConfig, ReGLAAttention, gla_chunk, refine_gate, linearize
"""

from __future__ import annotations

import importlib
from typing import Any

from regla.config import LMConfig, ReGLAConfig, TrainJobConfig

__all__ = [
    "DecayRegressor",
    "HFReGLAAttention",
    "LMConfig",
    "ReGLAAttention",
    "ReGLAConfig",
    "ReGLALM",
    "ReGLAState",
    "SoftmaxAttention",
    "TrainJobConfig",
    "count_params",
    "gate_stats",
    "gla_chunk",
    "gla_parallel",
    "gla_recurrent",
    "gla_step",
    "linearize",
    "refine_gate",
    "safe_exp",
]

_LAZY = {
    "functional": (
        "gla_chunk",
        "gla_parallel",
        "gla_recurrent",
        "gla_step",
        "refine_gate",
        "safe_exp",
    ),
    "layer": ("ReGLAAttention", "ReGLAState", "SoftmaxAttention"),
    "model": ("DecayRegressor", "ReGLALM", "count_params"),
    "hf": ("HFReGLAAttention", "linearize"),
    "workflow": ("gate_stats",),
}


def __getattr__(name: str) -> Any:
    for module, names in _LAZY.items():
        if name in names:
            return getattr(importlib.import_module(f"regla.{module}"), name)
    raise AttributeError(f"module 'regla' has no attribute {name!r}")
