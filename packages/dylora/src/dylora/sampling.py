"""Rank draws b ~ p_B as a pure function of ``(seed, step[, layer])``.

The official code draws one b per optimizer step in a Trainer callback. Deriving the draw
from ``(seed, step)`` instead of a process-local RNG gives the same b on every DDP process
and in a resumed run, with no communication. ``random.Random`` seeded with a string is
stable across processes and Python versions (it hashes the string with SHA-512).
"""

from __future__ import annotations

import random

from dylora.config import DyLoRAConfig

__all__ = ["draw_rank"]


def draw_rank(config: DyLoRAConfig, step: int, layer: int | None = None) -> int:
    """The rank b ∈ {r_min..r_max} of optimizer step ``step`` (and ``layer`` for per-layer scope)."""
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step: must be a non-negative integer, got {step!r}")
    key = f"dylora:{config.seed}:{step}" + ("" if layer is None else f":{layer}")
    rng = random.Random(key)
    if config.rank_distribution == "uniform":
        return rng.randint(config.r_min, config.r_max)
    pmf = config.rank_pmf()
    return rng.choices(list(pmf), weights=list(pmf.values()))[0]
