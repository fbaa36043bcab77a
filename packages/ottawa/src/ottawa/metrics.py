"""Ranking metrics: HalOmi's pairwise "percent correct pairs" (exact) and standard ROC-AUC."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["percent_correct_pairs", "roc_auc"]


def percent_correct_pairs(y: Sequence[float], x: Sequence[float]) -> float:
    """HalOmi's sentence metric: over all pairs with ``y_i < y_j``, the fraction with ``x_i < x_j``.

    Strict comparison: a tie in ``x`` counts as wrong (not ½). Returns 0.0 when no pair has
    different labels. ``y`` graded labels, ``x`` scores with higher = worse; both (N,).
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if y.shape != x.shape:
        raise ValueError(f"y/x: shapes differ, {y.shape} vs {x.shape}")
    ordered = y[:, None] < y[None, :]
    total = int(ordered.sum())
    if total == 0:
        return 0.0
    correct = int((ordered & (x[:, None] < x[None, :])).sum())
    return correct / total


def roc_auc(labels: Sequence[int | bool], scores: Sequence[float]) -> float:
    """Standard ROC-AUC (ties count ½; Mann-Whitney U / (n_pos n_neg)); NaN if one class is missing."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    if labels.shape != scores.shape:
        raise ValueError(f"labels/scores: shapes differ, {labels.shape} vs {scores.shape}")
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    start = 0
    for end in range(1, len(scores) + 1):
        if end == len(scores) or sorted_scores[end] != sorted_scores[start]:
            ranks[order[start:end]] = (
                start + end + 1
            ) / 2.0  # average 1-based rank of the tie block
            start = end
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))
