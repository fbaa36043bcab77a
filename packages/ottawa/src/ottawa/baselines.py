"""Baselines in the aligner API: balanced OT without null, argmax, itermax, sentence cosine.

Sentence scores of the word aligners are fractions of unaligned words (hall on the MT side,
omi on the source side). Word scores: ``1 - best cosine to the other side`` for argmax/itermax,
``1 - row count × max plan mass`` for balanced OT.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ottawa import functional as F
from ottawa.aligner import AlignmentResult, PairAligner, check_pairs

__all__ = ["ArgmaxAligner", "BalancedOTAligner", "IterMaxAligner", "itermax", "sentence_cosine"]


def _cos(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return 1.0 - 2.0 * F.cosine_cost(u, v)


def _mutual(S: np.ndarray) -> np.ndarray:
    """Mutual argmax of a score matrix S (n, m) as a 0/1 matrix."""
    A = np.zeros_like(S)
    rows = S.argmax(axis=1)
    cols = S.argmax(axis=0)
    for i, j in enumerate(rows):
        if cols[j] == i:
            A[i, j] = 1.0
    return A


def itermax(S: np.ndarray, max_count: int = 2, alpha: float = 0.9) -> np.ndarray:
    """SimAlign's itermax (Jalili Sabet et al., 2020): mutual argmax, then rounds that
    down-weight similarities of already aligned rows/columns by ``alpha`` (cells whose row and
    column are both aligned are excluded) and add the new mutual argmax links. S (n, m) -> 0/1."""
    A = _mutual(S)
    n, m = S.shape
    if min(n, m) <= 2:
        return A
    for _ in range(max_count - 1):
        row_free = (A.sum(axis=1) == 0).astype(float)[:, None] * np.ones((1, m))
        col_free = (A.sum(axis=0) == 0).astype(float)[None, :] * np.ones((n, 1))
        if row_free.sum() < 1 or col_free.sum() < 1:
            break
        weight = np.clip(alpha * row_free + alpha * col_free, 0.0, 1.0)
        allowed = 1.0 - (1.0 - row_free) * (1.0 - col_free)
        S_new = np.where(allowed > 0, S * weight, -np.inf)
        new = _mutual(S_new) * allowed
        if not (new * (1 - A)).any():
            break
        A = np.clip(A + new, 0, 1)
    return A


class _WordAligner(PairAligner):
    name = "base"

    def __init__(self, encoder: Any = None) -> None:
        self._encoder = encoder

    def links(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(0/1 links (n, m), source word scores (n,), MT word scores (m,))."""
        raise NotImplementedError

    def align_vectors(self, src_words, mt_words, u: np.ndarray, v: np.ndarray) -> AlignmentResult:
        A, omi_w, hall_w = self.links(u, v)
        n, m = A.shape
        pairs = [(int(i), int(j)) for i, j in zip(*np.nonzero(A), strict=True)]
        hall = (m - len({j for _, j in pairs})) / m
        omi = (n - len({i for i, _ in pairs})) / n
        return AlignmentResult(list(src_words), list(mt_words), pairs, hall, omi, hall_w, omi_w)


class BalancedOTAligner(_WordAligner):
    """Balanced entropic OT (``ot.sinkhorn``, uniform marginals, no null), mutual argmax links."""

    name = "balanced-ot"

    def __init__(
        self, encoder: Any = None, reg: float = 0.05, num_iter: int = 2000, tol: float = 1e-6
    ) -> None:
        super().__init__(encoder)
        if not (np.isfinite(reg) and reg > 0):
            raise ValueError(f"reg: must be a finite number > 0, got {reg!r}")
        self.reg, self.num_iter, self.tol = float(reg), int(num_iter), float(tol)

    def links(self, u, v):
        P = F.balanced_ot(F.cosine_cost(u, v), self.reg, self.num_iter, self.tol)
        n, m = P.shape
        return _mutual(P), 1.0 - n * P.max(axis=1), 1.0 - m * P.max(axis=0)


class ArgmaxAligner(_WordAligner):
    """Mutual argmax of cosine similarity (SimAlign "argmax")."""

    name = "argmax"

    def links(self, u, v):
        S = _cos(u, v)
        return _mutual(S), 1.0 - S.max(axis=1), 1.0 - S.max(axis=0)


class IterMaxAligner(_WordAligner):
    """SimAlign "itermax" (2 rounds, alpha 0.9)."""

    name = "itermax"

    def __init__(self, encoder: Any = None, max_count: int = 2, alpha: float = 0.9) -> None:
        super().__init__(encoder)
        self.max_count, self.alpha = int(max_count), float(alpha)

    def links(self, u, v):
        S = _cos(u, v)
        return itermax(S, self.max_count, self.alpha), 1.0 - S.max(axis=1), 1.0 - S.max(axis=0)


def sentence_cosine(srcs: Sequence[str], mts: Sequence[str], encoder: Any) -> np.ndarray:
    """``-cos`` of the sentence embeddings of each pair (higher = worse): (len(srcs),)."""
    check_pairs(srcs, mts)
    E = encoder.encode_sentences(list(srcs) + list(mts))
    k = len(srcs)
    return -np.sum(E[:k] * E[k:], axis=1)
