"""The detectors on the synthetic benchmark: the AUC summary and the cached runs the claims share.

``synthetic_summary`` turns the scores of several methods into ROC-AUCs (error-type separation,
detection against clean pairs, word level). ``run_benchmark`` generates one benchmark, scores
it with every method and summarises it, cached per process so that claims with the same
settings (error-type-separation and word-level) score it once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from papershelf.metrics import roc_auc

__all__ = [
    "CLAIM_METHODS",
    "benchmark_settings",
    "claim_config",
    "offline_encoder",
    "pair_mean",
    "run_benchmark",
    "synthetic_summary",
]

#: The methods the claims compare (itermax is left out: it scores like argmax here).
CLAIM_METHODS = ("ottawa", "balanced-ot", "argmax", "cosine")


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


@lru_cache(maxsize=1)
def offline_encoder(device: str = "cpu") -> Any:
    """The bundled MiniLM as a ``WordEncoder``, loaded once per process and device."""
    from ottawa.encoder import WordEncoder

    return WordEncoder.offline(device=device)


@lru_cache(maxsize=8)
def run_benchmark(
    n_sentences: int,
    difficulty: str,
    seed: int,
    device: str,
    methods: tuple[str, ...] = CLAIM_METHODS,
) -> dict[str, Any]:
    """Scores and summaries of every method on one generated benchmark (cached per process).

    Returns ``{"summary": synthetic_summary(...), "halomi_style": {method: pair-AUC means},
    "n_pairs", "seconds"}``.
    """
    from ottawa.config import OttawaConfig
    from ottawa.halomi import evaluate_sentence
    from ottawa.scoring import score_methods
    from ottawa.synthetic import make_benchmark

    t0 = time.perf_counter()
    pairs = make_benchmark(n_sentences, difficulty, seed)
    # "numpy" runs POT's own iteration vectorised: the same plans as solver="pot", faster
    config = OttawaConfig(solver="numpy")
    srcs, mts = [p.src for p in pairs], [p.mt for p in pairs]
    scores = score_methods(srcs, mts, methods, offline_encoder(device), config)
    summary = synthetic_summary(pairs, scores)
    pair_auc = {
        name: evaluate_sentence(pairs, scores[name]["hall"], scores[name]["omi"]).mean
        for name in methods
    }
    return {
        "summary": summary,
        "halomi_style": pair_auc,
        "n_pairs": len(pairs),
        "seconds": time.perf_counter() - t0,
    }


def benchmark_settings(quick: bool, seed: int, quick_n: int) -> list[tuple[int, str, int]]:
    """``(n_sentences, difficulty, seed)`` per run: one run of ``quick_n`` sources when quick,
    else three runs of 500 sources with seeds ``seed``, ``seed + 1``, ``seed + 2``."""
    if quick:
        return [(quick_n, "hard", seed)]
    return [(500, "hard", seed + k) for k in range(3)]


def claim_config(settings: list[tuple[int, str, int]]) -> dict[str, Any]:
    """The resolved settings a claim records in its ``Result.config``."""
    return {
        "encoder": "all-MiniLM-L6-v2 (offline)",
        "reg": 0.05,
        "solver": "numpy (same iterates as POT)",
        "null_cost": "adaptive",
        "benchmark": [
            {"n_sources": n, "pairs": 6 * n, "difficulty": d, "seed": s} for n, d, s in settings
        ],
    }


def pair_mean(table: list[dict[str, dict[str, float]]], a: str, b: str):
    """``mean(method)``: the mean of metrics ``a`` and ``b`` of ``method`` over the runs of ``table``."""

    def mean(method: str) -> float:
        return sum(t[method][a] + t[method][b] for t in table) / (2 * len(table))

    return mean
