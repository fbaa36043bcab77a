"""Shared by the claims: every method's mask at each ratio on the quick model, scored on test."""

from __future__ import annotations

import functools
import time
from typing import Any

from bosch.baselines import LAYER_KINDS, layer_mask, rank_heads, static_mask
from bosch.config import BoschConfig
from bosch.mask import HeadMask, exact_count
from bosch.search import Evaluator, exhaustive_search, search_masks
from bosch.workflow import QuickSetup, quick_setup

__all__ = ["RATIOS", "STATIC_METHODS", "memo_score", "method_table"]

RATIOS = (0.25, 0.5, 0.75, 0.875)
STATIC_METHODS = ("locality", "razor", "fisher", "ablation", "random")


def memo_score(setup: QuickSetup):
    """The calibration score S(mask), memoised across searches of one process."""
    cache: dict[HeadMask, float] = {}

    def score(mask: HeadMask) -> float:
        if mask not in cache:
            cache[mask] = setup.calib_score(mask)
        return cache[mask]

    return score


@functools.lru_cache(maxsize=4)
def method_table(seed: int = 0, ratios: tuple[float, ...] = RATIOS) -> dict[str, Any]:
    """Masks and test Ŝ of BOSCH, the exhaustive oracle, static rankings and layer baselines.

    The oracle enumerates every mask with exactly round(ρ·N) SWA groups on the calibration set.
    """
    setup = quick_setup(seed)
    score = memo_score(setup)
    shape = setup.shape
    t0 = time.perf_counter()
    importance = {
        m: rank_heads(m, setup.model, setup.calib, setup.window, seed=seed, score_fn=score)
        for m in STATIC_METHODS
    }
    rank_seconds = time.perf_counter() - t0
    rows: dict[float, dict[str, Any]] = {}
    for ratio in ratios:
        masks: dict[str, HeadMask] = {}
        evals: dict[str, int] = {}
        t = time.perf_counter()
        res = search_masks(score, shape, BoschConfig(ratio=ratio, window=setup.window, seed=seed))
        bosch_seconds = time.perf_counter() - t
        masks["bosch"], evals["bosch"] = res.mask, res.total_evals
        ev = Evaluator(score, ratio)
        ev.set_references(shape)
        ev.stage = "oracle"
        masks["oracle"] = exhaustive_search(
            ev,
            HeadMask.zeros(*shape),
            list(range(shape[0])),
            total=exact_count(ratio, shape[0] * shape[1]),
        )
        evals["oracle"] = ev.n_evals
        for m, imp in importance.items():
            masks[m] = static_mask(imp, ratio)
        for kind in LAYER_KINDS:
            masks[kind] = layer_mask(kind, ratio, shape[0], shape[1], seed=seed)
        rows[ratio] = {
            "masks": masks,
            "test": {k: setup.normalised_test(m) for k, m in masks.items()},
            "calib": {k: (score(m) - ev.s_swa) / (ev.s_full - ev.s_swa) for k, m in masks.items()},
            "ratio_used": {k: m.ratio for k, m in masks.items()},
            "evals": evals,
            "bosch_n_evals": res.n_evals,
            "bosch_seconds": bosch_seconds,
        }
    return {"setup": setup, "rows": rows, "rank_seconds": rank_seconds}


PRECONDITION = (
    "the full-attention model solves retrieval (test accuracy >= 0.9) and all-SWA does not (<= 0.5)"
)


def precondition(setup: QuickSetup) -> bool:
    """The full model solves the task and the all-SWA one does not (else Ŝ is meaningless)."""
    return setup.full_test >= 0.9 and setup.swa_test <= 0.5


def setup_details(setup: QuickSetup) -> dict[str, Any]:
    return {
        "full_test_accuracy": setup.full_test,
        "all_swa_test_accuracy": setup.swa_test,
        "window": setup.window,
        "seq_len": setup.task.seq_len,
        "train_seconds": setup.train_seconds,
        "final_train_loss": setup.final_loss,
        "precondition": PRECONDITION,
    }


def failure_reason(setup: QuickSetup) -> str:
    return (
        f"full model test accuracy {setup.full_test:.3f} (needs >= 0.9), "
        f"all-SWA {setup.swa_test:.3f} (needs <= 0.5)"
    )
