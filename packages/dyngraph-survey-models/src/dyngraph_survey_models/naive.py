"""Slow, obviously-correct references used only as test oracles: ``naive_<op>`` checks the
fast ``<op>`` of the package, with the same parameters.

- :func:`naive_ranks` checks :func:`dyngraph_survey_models.metrics.ranks`.

The reference formulas that check a module rather than a function (the GConvGRU cell, EdgeBank)
are test helpers in :mod:`dyngraph_survey_models.testing`.
"""

from __future__ import annotations

__all__ = ["naive_ranks"]


def naive_ranks(pos: list[float], neg: list[list[float]]) -> list[float]:
    """Rank of each positive among its negatives by counting, ties counted ½."""
    out = []
    for p, row in zip(pos, neg, strict=True):
        r = 1.0
        for n in row:
            if n > p:
                r += 1
            elif n == p:
                r += 0.5
        out.append(r)
    return out
