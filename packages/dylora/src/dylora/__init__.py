"""DyLoRA: dynamic search-free low-rank adaptation (Valipour et al., EACL 2023).

One training run serves every LoRA rank b ≤ r_max: each training step samples b,
truncates the adapter to its first b rows/columns and scales it by α/b.

    from dylora import DyLoRAConfig, get_dylora_model
    model = get_dylora_model(hf_model, DyLoRAConfig(r_max=8, alpha=16, target_modules=["query", "value"]))
    train(model, data, loss_fn, TrainConfig(max_steps=500), hooks=[RankHook(model)])
    with model.at_rank(2): ...       # evaluate at rank 2

``RankHook`` samples b once per training step inside ``papershelf.train.train``/``fit``
(``DyLoRACallback`` does it for the Hugging Face ``Trainer``; in a loop of your own call
``model.sample_rank(step)`` before each training step).

Importing ``dylora`` is light: torch is imported when a model-level name is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from dylora.config import DyLoRAConfig, RunOptions, parse_ranks

__version__ = "0.1.0"

_LAZY = {
    "DyLoRALinear": "dylora.layer",
    "DyLoRAModel": "dylora.model",
    "get_dylora_model": "dylora.model",
    "evaluate_ranks": "dylora.model",
    "DyLoRACallback": "dylora.callback",
    "draw_rank": "dylora.sampling",
    "RankHook": "dylora.sampling",
}

__all__ = [
    "DyLoRACallback",
    "DyLoRAConfig",
    "DyLoRALinear",
    "DyLoRAModel",
    "RankHook",
    "RunOptions",
    "__version__",
    "draw_rank",
    "evaluate_ranks",
    "get_dylora_model",
    "parse_ranks",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dylora' has no attribute {name!r}")
