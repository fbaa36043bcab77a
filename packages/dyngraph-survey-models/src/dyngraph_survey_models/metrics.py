"""Link-prediction metrics: AP, ROC-AUC, and ranking metrics (MRR, Hits@k).

AP = sum_n (R_n - R_{n-1}) P_n over distinct score thresholds (scikit-learn's definition);
ROC-AUC = P(score_pos > score_neg) + 1/2 P(tie) (Mann-Whitney). For one positive against K
negatives, rank = 1 + #{neg > pos} + 1/2 #{neg = pos}; MRR = mean(1 / rank),
Hits@k = mean(rank <= k).
"""

from __future__ import annotations

import torch

__all__ = ["average_precision", "hits_at", "mrr", "ranks", "roc_auc"]


def _check(scores: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    scores = torch.as_tensor(scores, dtype=torch.float64).reshape(-1)
    labels = torch.as_tensor(labels).reshape(-1).bool()
    if scores.numel() != labels.numel():
        raise ValueError(f"scores, labels: lengths differ ({scores.numel()} vs {labels.numel()})")
    if not labels.any() or labels.all():
        raise ValueError("labels: need at least one positive and one negative")
    return scores, labels


def average_precision(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """AP of ``scores (n,)`` for binary ``labels (n,)``; ties share one threshold."""
    s, y = _check(scores, labels)
    order = torch.argsort(s, descending=True, stable=True)
    s, y = s[order], y[order].double()
    tp = torch.cumsum(y, 0)
    last = torch.ones_like(s, dtype=torch.bool)
    last[:-1] = s[1:] != s[:-1]  # the last index of every group of equal scores
    tp = tp[last]
    pos = torch.arange(1, s.numel() + 1, dtype=torch.float64)[last]
    precision = tp / pos
    recall = tp / y.sum()
    prev = torch.cat([torch.zeros(1, dtype=torch.float64), recall[:-1]])
    return float(((recall - prev) * precision).sum())


def roc_auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """ROC-AUC of ``scores (n,)`` for binary ``labels (n,)`` via mid-ranks (ties count 1/2)."""
    s, y = _check(scores, labels)
    order = torch.argsort(s, stable=True)
    ss = s[order]
    _, inverse, counts = torch.unique_consecutive(ss, return_inverse=True, return_counts=True)
    ends = torch.cumsum(counts, 0).double()
    mid = ends - (counts.double() - 1) / 2
    r = mid[inverse]
    ranks_ = torch.empty_like(r)
    ranks_[order] = r
    n_pos, n_neg = float(y.sum()), float((~y).sum())
    return float((ranks_[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def ranks(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """(B,) rank of each positive ``pos (B,)`` among its negatives ``neg (B, K)``."""
    pos = torch.as_tensor(pos, dtype=torch.float64).reshape(-1, 1)
    neg = torch.as_tensor(neg, dtype=torch.float64)
    if neg.dim() != 2 or neg.size(0) != pos.size(0):
        raise ValueError(f"neg: must have shape (B={pos.size(0)}, K), got {tuple(neg.shape)}")
    return 1 + (neg > pos).sum(1).double() + 0.5 * (neg == pos).sum(1).double()


def mrr(pos: torch.Tensor, neg: torch.Tensor) -> float:
    """Mean reciprocal rank of one positive against K negatives per row."""
    return float((1.0 / ranks(pos, neg)).mean())


def hits_at(pos: torch.Tensor, neg: torch.Tensor, k: int) -> float:
    """Fraction of rows whose positive ranks ``<= k``."""
    return float((ranks(pos, neg) <= k).double().mean())
