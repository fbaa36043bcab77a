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
    "null_rule_share",
    "offline_encoder",
    "pair_mean",
    "paired_bootstrap",
    "run_benchmark",
    "synthetic_summary",
    "task_masks",
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
    # "batched": POT's iteration for all pairs at once (plans equal to solver="pot" to ~1e-15)
    config = OttawaConfig(solver="batched", device=device)
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
        "kinds": [p.kind for p in pairs],
        "scores": {
            name: {"hall": np.asarray(scores[name]["hall"]), "omi": np.asarray(scores[name]["omi"])}
            for name in methods
        },
    }


def task_masks(kinds: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    """Per detection task: (rows used, labels on those rows, score key) for
    ``hall_vs_clean`` (all hallucination variants vs clean, hall score) and ``omi_vs_clean``."""
    kinds = np.asarray(kinds)
    clean = kinds == "clean"
    is_h = np.isin(kinds, ["hall-small", "hall-partial", "hall-full"])
    is_o = np.isin(kinds, ["omi-small", "omi-partial"])
    return {
        "hall_vs_clean": (is_h | clean, is_h[is_h | clean], "hall"),
        "omi_vs_clean": (is_o | clean, is_o[is_o | clean], "omi"),
    }


def paired_bootstrap(
    runs: Sequence[dict[str, Any]],
    a: str,
    b: str,
    n_boot: int = 1000,
    seed: int = 0,
    group_size: int = 6,
) -> dict[str, dict[str, float]]:
    """Paired bootstrap of ``AUC(a) - AUC(b)`` per task, averaged over ``runs`` (seeds).

    Each resample draws the source sentences of every run with replacement (a source keeps its
    ``group_size`` variants together) and scores both methods on the same draw. Returns per
    task ``{"diff": observed mean difference, "low", "high": 95% percentile interval, "n_boot"}``.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for task in ("hall_vs_clean", "omi_vs_clean"):
        observed, boots = [], np.zeros(n_boot)
        for r in runs:
            rows, labels, key = task_masks(r["kinds"])[task]
            sa = r["scores"][a][key][rows]
            sb = r["scores"][b][key][rows]
            groups = (np.arange(len(r["kinds"])) // group_size)[rows]
            n_groups = int(groups.max()) + 1
            members = [np.nonzero(groups == g)[0] for g in range(n_groups)]
            observed.append(roc_auc(labels, sa) - roc_auc(labels, sb))
            for k in range(n_boot):
                pick = np.concatenate([members[g] for g in rng.integers(0, n_groups, n_groups)])
                y = labels[pick]
                if y.all() or not y.any():
                    boots[k] += np.nan
                    continue
                boots[k] += roc_auc(y, sa[pick]) - roc_auc(y, sb[pick])
        boots = boots[np.isfinite(boots)] / len(runs)
        out[task] = {
            "diff": float(np.mean(observed)),
            "low": float(np.percentile(boots, 2.5)),
            "high": float(np.percentile(boots, 97.5)),
            "n_boot": len(boots),
        }
    return out


def null_rule_share(n_sentences: int, difficulty: str, seed: int) -> float:
    """Share of plans (both directions of every pair) where the adaptive null differs from the
    median rule, i.e. ``d_eq > median(C)`` (uses the cached offline encoder)."""
    from ottawa import functional as F
    from ottawa.synthetic import make_benchmark

    pairs = make_benchmark(n_sentences, difficulty, seed)
    enc = offline_encoder("cpu").encode([p.src for p in pairs] + [p.mt for p in pairs])
    k = len(pairs)
    hits = []
    for a, b in zip(enc[:k], enc[k:], strict=True):
        for u, v in ((a.vectors, b.vectors), (b.vectors, a.vectors)):
            hits.append(F.equidistant_distance(u) > float(np.median(F.cosine_cost(u, v))))
    return float(np.mean(hits))


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
        "solver": "batched (same iterates as POT)",
        "null_cost": "adaptive",
        "benchmark": [  # one entry per run
            {"n_sources": n, "pairs": 6 * n, "difficulty": d, "seed": s} for n, d, s in settings
        ],
    }


def pair_mean(table: list[dict[str, dict[str, float]]], a: str, b: str):
    """``mean(method)``: the mean of metrics ``a`` and ``b`` of ``method`` over the runs of ``table``."""

    def mean(method: str) -> float:
        return sum(t[method][a] + t[method][b] for t in table) / (2 * len(table))

    return mean
