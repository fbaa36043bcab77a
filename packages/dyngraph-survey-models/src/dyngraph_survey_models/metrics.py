"""Ranking metrics of link prediction: one positive against K negatives per row.

rank = 1 + #{neg > pos} + 1/2 #{neg = pos}; MRR = mean(1 / rank), Hits@k = mean(rank <= k).
AP and ROC-AUC come from :mod:`papershelf.metrics` (``average_precision(labels, scores)``,
``roc_auc(labels, scores)``: labels first).
"""

from __future__ import annotations

import torch

__all__ = ["hits_at", "mrr", "ranks"]


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
