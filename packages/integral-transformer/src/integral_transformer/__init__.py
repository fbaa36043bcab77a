"""Integral Transformer (Kobyzev et al., EMNLP 2025): Integral attention averages the logits of
S signals per head (each with its own rotary positions) before one softmax.

Heavy modules (torch, transformers) load on first use of their names.
"""

from __future__ import annotations

import importlib

from integral_transformer.config import (
    IntegralConfig,
    LMConfig,
    NoisyRecallConfig,
    ZooConfig,
    select_layers,
)

_LAZY = {
    "integral_attention": "integral_transformer.functional",
    "integral_weights": "integral_transformer.functional",
    "signal_rope": "integral_transformer.functional",
    "cog_attention": "integral_transformer.functional",
    "vanilla_attention": "integral_transformer.functional",
    "IntegralAttention": "integral_transformer.layer",
    "VanillaAttention": "integral_transformer.layer",
    "DiffAttention": "integral_transformer.layer",
    "CogAttention": "integral_transformer.layer",
    "IntegralLM": "integral_transformer.model",
    "apply_integral": "integral_transformer.hf",
    "register_integral_attention": "integral_transformer.hf",
    "attention_stats": "integral_transformer.analysis",
    "representation_rank": "integral_transformer.analysis",
}

__all__ = [
    "IntegralConfig",
    "LMConfig",
    "NoisyRecallConfig",
    "ZooConfig",
    "select_layers",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'integral_transformer' has no attribute {name!r}")
