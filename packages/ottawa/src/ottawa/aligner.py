"""``OttawaAligner``: the two one-side constrained plans, the alignment and the scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ottawa import functional as F
from ottawa.config import OttawaConfig

__all__ = [
    "AlignmentResult",
    "OttawaAligner",
    "check_pairs",
    "ottawa_batch_from_vectors",
    "ottawa_from_vectors",
]


@dataclass
class AlignmentResult:
    """Alignment and scores of one (source, MT) pair; higher scores = worse.

    Attributes:
        src_words, mt_words: the n source and m MT words.
        pairs: aligned (source index, MT index) pairs.
        plan_fwd: (n, m + 1) rows = source words, columns = MT words + null (omission side).
        plan_rev: (m, n + 1) rows = MT words, columns = source words + null (hallucination side).
        hall: sentence hallucination score in [0, 2]; omi: sentence omission score in [0, 1].
        hall_words: (m,) per MT word; omi_words: (n,) per source word.
    """

    src_words: list[str]
    mt_words: list[str]
    pairs: list[tuple[int, int]]
    hall: float
    omi: float
    hall_words: np.ndarray
    omi_words: np.ndarray
    plan_fwd: np.ndarray | None = None
    plan_rev: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_pharaoh(self) -> str:
        """Pairs as "i-j" tokens (0-based source-MT), space separated."""
        return " ".join(f"{i}-{j}" for i, j in self.pairs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "src_words": self.src_words,
            "mt_words": self.mt_words,
            "alignment": self.to_pharaoh(),
            "hall": float(self.hall),
            "omi": float(self.omi),
            "hall_words": [float(x) for x in self.hall_words],
            "omi_words": [float(x) for x in self.omi_words],
        }

    def plot(self, path: str | Path) -> Path:
        """Heat map of ``plan_rev`` (MT rows × source + null columns) with the links marked (PNG)."""
        from ottawa.plot import plot_alignment

        return plot_alignment(self, Path(path))


def _cost(rows: np.ndarray, cols: np.ndarray, config: OttawaConfig) -> np.ndarray:
    """``C_aug`` (len(rows), len(cols) + 1): cosine cost, null column from the row side, scaled."""
    C = F.cosine_cost(rows, cols)
    return F.augment_and_scale(C, F.null_cost(C, rows, config.null_cost), config.scale)


def _scores(P_fwd: np.ndarray, P_rev: np.ndarray, config: OttawaConfig) -> dict[str, Any]:
    """Pairs and scores from the two plans: P_fwd (n, m + 1), P_rev (m, n + 1)."""
    n, m = P_fwd.shape[0], P_rev.shape[0]
    pairs = F.mutual_argmax(P_fwd, P_rev, config.alignment)
    aligned_src = {i for i, _ in pairs}
    aligned_mt = {j for _, j in pairs}
    hall = (m - len(aligned_mt)) / m + float(P_rev[:, -1].sum())
    omi = (n - len(aligned_src)) / n
    hall_words = P_rev[:, -1].copy()
    omi_words = P_fwd[:, -1].copy()
    if config.word_score == "fraction":
        hall_words *= m
        omi_words *= n
    return {
        "plan_fwd": P_fwd,
        "plan_rev": P_rev,
        "pairs": pairs,
        "hall": hall,
        "omi": omi,
        "hall_words": hall_words,
        "omi_words": omi_words,
    }


def ottawa_from_vectors(u: np.ndarray, v: np.ndarray, config: OttawaConfig) -> dict[str, Any]:
    """OTTAWA on word vectors: u (n, d) source words, v (m, d) MT words.

    Returns plan_fwd (n, m+1), plan_rev (m, n+1), pairs, hall, omi, hall_words (m,), omi_words (n,).
    """

    def plan(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return F.one_side_ot(
            _cost(rows, cols, config),
            config.reg,
            config.null_weight,
            config.num_iter,
            config.tol,
            config.solver,
        )

    return _scores(plan(u, v), plan(v, u), config)


def ottawa_batch_from_vectors(
    vectors: Sequence[tuple[np.ndarray, np.ndarray]], config: OttawaConfig
) -> list[dict[str, Any]]:
    """OTTAWA on many pairs ``(u (n_k, d), v (m_k, d))`` at once: the 2K plans are solved together
    by :func:`ottawa.batched.batched_one_side_ot` (same iterates as POT's solver) on
    ``config.device``. Each dict is ``ottawa_from_vectors``'s plus ``iterations`` (fwd, rev) and
    ``converged`` (fwd, rev). Solvers other than "batched" run pair by pair."""
    from ottawa.batched import batched_one_side_ot

    if config.solver != "batched":
        return [ottawa_from_vectors(u, v, config) for u, v in vectors]
    costs = []
    for u, v in vectors:
        costs += [_cost(u, v, config), _cost(v, u, config)]
    sol = batched_one_side_ot(
        costs, config.reg, config.null_weight, config.num_iter, config.tol, config.device
    )
    out = []
    for k in range(len(vectors)):
        P_fwd, P_rev = sol.plans[2 * k], sol.plans[2 * k + 1]
        F.check_plan(P_fwd, config.reg)
        F.check_plan(P_rev, config.reg)
        res = _scores(P_fwd, P_rev, config)
        res["iterations"] = (int(sol.iterations[2 * k]), int(sol.iterations[2 * k + 1]))
        res["converged"] = (bool(sol.converged[2 * k]), bool(sol.converged[2 * k + 1]))
        out.append(res)
    return out


def check_pairs(srcs: Sequence[str], mts: Sequence[str]) -> None:
    """Refuse lists of different lengths and empty sentences, naming the first bad item."""
    if len(srcs) != len(mts):
        raise ValueError(f"src/mt: {len(srcs)} source sentences but {len(mts)} translations")
    for k, (s, t) in enumerate(zip(srcs, mts, strict=True)):
        for side, text in (("src", s), ("mt", t)):
            if not isinstance(text, str) or not text.split():
                raise ValueError(
                    f"{side}: pair {k} is empty; every pair needs at least one word on both sides"
                )


class PairAligner:
    """What every aligner shares: encode sentence pairs with ``self.encoder`` (by default the
    bundled MiniLM, loaded on first use) and align their word vectors with
    ``self.align_vectors(src_words, mt_words, src_vecs, mt_vecs)``."""

    _encoder: Any = None

    def _offline_options(self) -> dict[str, Any]:
        """Keyword arguments of ``WordEncoder.offline`` for the default encoder."""
        return {}

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            from ottawa.encoder import WordEncoder

            self._encoder = WordEncoder.offline(**self._offline_options())
        return self._encoder

    def align_vectors(self, src_words, mt_words, src_vecs, mt_vecs) -> AlignmentResult:
        raise NotImplementedError

    def align(self, src: str, mt: str) -> AlignmentResult:
        """Align one pair (whitespace-split words)."""
        return self.align_batch([src], [mt])[0]

    def align_batch(self, srcs: Sequence[str], mts: Sequence[str]) -> list[AlignmentResult]:
        """Align many pairs; each distinct sentence is encoded once."""
        check_pairs(srcs, mts)
        enc = self.encoder.encode(list(srcs) + list(mts))
        k = len(srcs)
        return self.align_vectors_batch(list(zip(enc[:k], enc[k:], strict=True)))

    def align_vectors_batch(self, encoded: Sequence[tuple[Any, Any]]) -> list[AlignmentResult]:
        """Align encoded pairs ``(WordVectors, WordVectors)``; one by one unless overridden."""
        return [self.align_vectors(a.words, b.words, a.vectors, b.vectors) for a, b in encoded]

    def score(self, srcs: Sequence[str], mts: Sequence[str]) -> list[dict[str, float]]:
        """Sentence scores ``{"hall", "omi"}`` per pair (higher = worse)."""
        return [{"hall": float(r.hall), "omi": float(r.omi)} for r in self.align_batch(srcs, mts)]


class OttawaAligner(PairAligner):
    """OTTAWA: one-side constrained OT with an adaptive null column, in both directions.

    Args:
        config: ``OttawaConfig`` (defaults: reg 0.05, POT solver, adaptive null).
        encoder: a ``WordEncoder`` (default: ``WordEncoder.offline()``, the bundled MiniLM).
    """

    name = "ottawa"

    def __init__(self, config: OttawaConfig | None = None, encoder: Any = None) -> None:
        self.config = config or OttawaConfig()
        self._encoder = encoder

    def _offline_options(self) -> dict[str, Any]:
        return {"subword_pool": self.config.subword_pool, "layer": self.config.layer}

    def align_vectors(self, src_words, mt_words, u: np.ndarray, v: np.ndarray) -> AlignmentResult:
        return self.align_vectors_batch([(_Encoded(src_words, u), _Encoded(mt_words, v))])[0]

    def align_vectors_batch(self, encoded: Sequence[tuple[Any, Any]]) -> list[AlignmentResult]:
        """All pairs' plans in one batched solve (``solver="batched"``), else pair by pair;
        the iteration counts of the two plans are in ``result.extra``."""
        outs = ottawa_batch_from_vectors([(a.vectors, b.vectors) for a, b in encoded], self.config)
        results = []
        for (a, b), o in zip(encoded, outs, strict=True):
            extra = {k: o.pop(k) for k in ("iterations", "converged") if k in o}
            results.append(AlignmentResult(list(a.words), list(b.words), **o, extra=extra))
        return results


@dataclass
class _Encoded:
    words: list[str]
    vectors: np.ndarray
