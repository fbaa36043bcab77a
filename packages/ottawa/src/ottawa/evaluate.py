"""Scoring a set of pairs with several methods, and the synthetic-benchmark summaries."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ottawa.metrics import roc_auc

__all__ = ["METHODS", "make_method", "score_methods", "synthetic_summary"]

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
        out[name]["seconds"] = time.perf_counter() - t0
    out["_encode_seconds"] = {"seconds": enc_s}
    return out


def synthetic_summary(
    pairs: Sequence[Any], scores: dict[str, dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Per method: H-vs-O separation AUCs, detection AUCs against clean, and word AUCs.

    ``hvo_hall`` / ``hvo_omi``: ROC-AUC of the hall / omi score with hallucination variants
    (small, partial) = 1 and omission variants = 0 (``hall-full`` is left out: it is both a full
    hallucination and a full omission); ``*_incl_full`` keep it. ``hall_vs_clean``: all
    hallucination variants vs clean by the hall score; ``omi_vs_clean``: omission variants vs clean
    by the omi score. ``hall_word`` / ``omi_word``: word ROC-AUC pooled over pairs;
    ``*_word_excl_full``: the same without the unrelated-sentence variant (a diagnostic).
    """
    kinds = np.array([p.kind for p in pairs])
    is_h = np.isin(kinds, ["hall-small", "hall-partial"])
    is_hf = np.isin(kinds, ["hall-small", "hall-partial", "hall-full"])
    is_o = np.isin(kinds, ["omi-small", "omi-partial"])
    clean = kinds == "clean"
    summary = {}
    for name, s in scores.items():
        if name.startswith("_"):
            continue
        h, o = np.asarray(s["hall"]), np.asarray(s["omi"])
        row = {
            "hvo_hall": roc_auc(is_h[is_h | is_o], h[is_h | is_o]),
            "hvo_omi": roc_auc(is_h[is_h | is_o], o[is_h | is_o]),
            "hvo_hall_incl_full": roc_auc(is_hf[is_hf | is_o], h[is_hf | is_o]),
            "hvo_omi_incl_full": roc_auc(is_hf[is_hf | is_o], o[is_hf | is_o]),
            "hall_vs_clean": roc_auc(is_hf[is_hf | clean], h[is_hf | clean]),
            "omi_vs_clean": roc_auc(is_o[is_o | clean], o[is_o | clean]),
        }
        if s.get("hall_words") is not None:
            row["hall_word"] = roc_auc(
                np.concatenate([p.mt_word_labels for p in pairs]), np.concatenate(s["hall_words"])
            )
            row["omi_word"] = roc_auc(
                np.concatenate([p.src_word_labels for p in pairs]), np.concatenate(s["omi_words"])
            )
            keep = [k for k, p in enumerate(pairs) if p.kind != "hall-full"]
            row["hall_word_excl_full"] = roc_auc(
                np.concatenate([pairs[k].mt_word_labels for k in keep]),
                np.concatenate([s["hall_words"][k] for k in keep]),
            )
            row["omi_word_excl_full"] = roc_auc(
                np.concatenate([pairs[k].src_word_labels for k in keep]),
                np.concatenate([s["omi_words"][k] for k in keep]),
            )
        summary[name] = {k: float(v) for k, v in row.items()}
    return summary
