"""OTTAWA: optimal-transport word alignment with an adaptive null for hallucination and omission detection.

Public names are imported lazily so that ``import ottawa`` (and the CLI's ``--help``) stays light.
"""

from __future__ import annotations

import importlib
import warnings
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
    "percent_correct_pairs": "ottawa.halomi",
    "score_methods": "ottawa.scoring",
    "make_benchmark": "ottawa.synthetic",
    "synthetic_summary": "ottawa.synthetic_eval",
}
_SUBMODULES = (
    "baselines",
    "encoder",
    "functional",
    "halomi",
    "naive",
    "scoring",
    "synthetic",
    "synthetic_eval",
    "workflow",
)
# Old names kept for one release: name -> (module, attribute, message).
_DEPRECATED = {
    "roc_auc": (
        "papershelf.metrics",
        "roc_auc",
        "ottawa.roc_auc is papershelf.metrics.roc_auc now (same order: labels, scores; "
        "it raises UserError when one class is missing instead of returning NaN)",
    ),
}

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"ottawa.{name}")
    if name in _DEPRECATED:
        module, attr, message = _DEPRECATED[name]
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'ottawa' has no attribute {name!r}")
