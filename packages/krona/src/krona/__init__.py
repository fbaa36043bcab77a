"""KronA: parameter-efficient tuning with Kronecker adapters (Edalati et al., arXiv 2212.10650).

``ΔW = s·(A⊗B)`` in parallel with a frozen ``nn.Linear`` (KronA), or with a whole FFN block
(KronA^B, KronA^B_res). Public API::

    from krona import KronAConfig, get_krona_model, KronAModel
    model = get_krona_model(hf_model, KronAConfig(target_modules=["query", "value"]))
    model.print_trainable_parameters(); ...; model.save_pretrained("out")
    merged = model.merge_and_unload()

Importing ``krona`` imports no torch: the names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "KronAConfig": "krona.config",
    "KronAError": "krona.errors",
    "KronALinear": "krona.layer",
    "KronABlock": "krona.layer",
    "KronAModel": "krona.model",
    "get_krona_model": "krona.model",
    "FFN_TAPS": "krona.model",
    "kron_linear": "krona.functional",
    "factorization": "krona.functional",
    "best_kron_approx": "krona.functional",
    "num_params": "krona.functional",
    "lora_rank_for_budget": "krona.functional",
}

__all__ = [*sorted(_LAZY), "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'krona' has no attribute {name!r}")
