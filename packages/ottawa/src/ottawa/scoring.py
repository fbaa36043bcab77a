"""Scoring sentence pairs with detection methods chosen by name (OTTAWA and the baselines)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["METHODS", "make_method", "score_methods"]

METHODS = ("ottawa", "balanced-ot", "argmax", "itermax", "cosine")


def make_method(name: str, encoder: Any, config: Any = None) -> Any:
    """An aligner by name, sharing ``encoder`` (and its cache)."""
    from ottawa.aligner import OttawaAligner
    from ottawa.baselines import ArgmaxAligner, BalancedOTAligner, IterMaxAligner

    reg = config.reg if config is not None else 0.05
    factories = {
        "ottawa": lambda: OttawaAligner(config, encoder),
        "balanced-ot": lambda: BalancedOTAligner(encoder, reg=reg),
        "argmax": lambda: ArgmaxAligner(encoder),
        "itermax": lambda: IterMaxAligner(encoder),
    }
    if name not in factories:
        raise ValueError(f"method: {name!r} is not allowed; choose from {', '.join(METHODS)}")
    return factories[name]()


def score_methods(
    srcs: Sequence[str],
    mts: Sequence[str],
    methods: Sequence[str],
    encoder: Any,
    config: Any = None,
) -> dict[str, dict[str, Any]]:
    """Sentence and word scores of each method: ``{method: {hall, omi, hall_words, omi_words, seconds}}``.

    ``cosine`` has only sentence scores (``-cos``, the same for both error types). Word vectors
    are encoded once up front (timed as ``_encode_seconds``), only if a word aligner needs them.
    """
    out: dict[str, dict[str, Any]] = {}
    t0 = time.perf_counter()
    if any(name != "cosine" for name in methods):
        encoder.encode(list(srcs) + list(mts))
    enc_s = time.perf_counter() - t0
    for name in methods:
        t0 = time.perf_counter()
        if name == "cosine":
            from ottawa.baselines import sentence_cosine

            s = sentence_cosine(srcs, mts, encoder)
            out[name] = {"hall": s, "omi": s.copy(), "hall_words": None, "omi_words": None}
        else:
            results = make_method(name, encoder, config).align_batch(srcs, mts)
            out[name] = {
                "hall": np.array([r.hall for r in results]),
                "omi": np.array([r.omi for r in results]),
                "hall_words": [r.hall_words for r in results],
                "omi_words": [r.omi_words for r in results],
            }
            if results and "iterations" in results[0].extra:
                out[name]["iterations"] = [r.extra["iterations"] for r in results]
                out[name]["converged"] = [r.extra["converged"] for r in results]
        out[name]["seconds"] = time.perf_counter() - t0
    out["_encode_seconds"] = {"seconds": enc_s}
    return out
