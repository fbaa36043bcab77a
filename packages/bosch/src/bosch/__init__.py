"""BOSCH: black-box head-level selection of sliding-window attention for hybrid LLMs.

Heavy modules (torch, transformers) load on first use of their names.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BoschConfig",
    "HeadMask",
    "RollingHybridCache",
    "SearchResult",
    "TaskConfig",
    "TinyLMConfig",
    "TinyRetrievalLM",
    "apply_hybrid",
    "bosch_search",
    "exact_count",
    "hybrid_attention",
    "kv_saving",
    "layer_mask",
    "load_hybrid",
    "rank_heads",
    "register_hybrid_attention",
    "search_masks",
    "sliding_window_mask",
    "static_mask",
]

_WHERE = {
    "BoschConfig": "bosch.config",
    "TaskConfig": "bosch.config",
    "TinyLMConfig": "bosch.config",
    "HeadMask": "bosch.mask",
    "exact_count": "bosch.mask",
    "kv_saving": "bosch.mask",
    "RollingHybridCache": "bosch.model",
    "TinyRetrievalLM": "bosch.model",
    "SearchResult": "bosch.search",
    "bosch_search": "bosch.search",
    "search_masks": "bosch.search",
    "apply_hybrid": "bosch.hf",
    "load_hybrid": "bosch.hf",
    "register_hybrid_attention": "bosch.hf",
    "hybrid_attention": "bosch.functional",
    "sliding_window_mask": "bosch.functional",
    "layer_mask": "bosch.baselines",
    "rank_heads": "bosch.baselines",
    "static_mask": "bosch.baselines",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'bosch' has no attribute {name!r}")
