"""OTTAWA: optimal-transport word alignment with an adaptive null for hallucination and omission detection.

Public names are imported lazily so that ``import ottawa`` (and the CLI's ``--help``) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "OttawaConfig": "ottawa.config",
    "OttawaAligner": "ottawa.aligner",
    "AlignmentResult": "ottawa.aligner",
    "WordEncoder": "ottawa.encoder",
    "WordVectors": "ottawa.encoder",
    "BalancedOTAligner": "ottawa.baselines",
    "ArgmaxAligner": "ottawa.baselines",
    "IterMaxAligner": "ottawa.baselines",
    "sentence_cosine": "ottawa.baselines",
    "load_halomi": "ottawa.halomi",
    "evaluate_sentence": "ottawa.halomi",
    "evaluate_words": "ottawa.halomi",
    "percent_correct_pairs": "ottawa.metrics",
    "roc_auc": "ottawa.metrics",
    "make_benchmark": "ottawa.synthetic",
}
_SUBMODULES = ("functional", "naive", "synthetic", "halomi", "metrics", "baselines", "encoder")

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"ottawa.{name}")
    raise AttributeError(f"module 'ottawa' has no attribute {name!r}")
