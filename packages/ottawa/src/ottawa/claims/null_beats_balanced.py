"""Claim: the adaptive null (one-side constrained OT) detects hallucinations and omissions better
than balanced OT without null.

Set: the ``harder`` synthetic benchmark (longer sources, one-word edits, function-word noise) so
that neither method sits at the AUC ceiling. Tasks: hall-vs-clean ROC-AUC (hall score) and
omi-vs-clean ROC-AUC (omi score), OTTAWA vs balanced OT (``ot.sinkhorn``, same reg, mutual
argmax, fraction of unaligned words). Seeds: 3 (quick, 40 sources each) or 5 (full, 200 each).

Rule, fixed before the run: the paired bootstrap (sources resampled, 1,000 draws) of the
seed-averaged AUC difference OTTAWA - balanced gives a 95% interval per task.
- precondition: both methods below the ceiling (seed-mean AUC <= 0.99 on each task);
  otherwise inconclusive (the set cannot separate them).
- holds if the interval's lower end is > 0 on both tasks; does not hold if the upper end is
  < 0 on either task; otherwise inconclusive (the sample cannot separate the numbers).
"""

from __future__ import annotations

import numpy as np
from papershelf.registry import Result, RunContext

from ottawa.synthetic_eval import (
    claim_config,
    null_rule_share,
    paired_bootstrap,
    run_benchmark,
)

QUICK_SOURCES = 40
FULL_SOURCES = 200
METHODS = ("ottawa", "balanced-ot")
TASKS = ("hall_vs_clean", "omi_vs_clean")
CEILING = 0.99


def settings(quick: bool, seed: int) -> list[tuple[int, str, int]]:
    """(n_sources, difficulty, seed) per run: 3 seeds quick, 5 full."""
    n, k = (QUICK_SOURCES, 3) if quick else (FULL_SOURCES, 5)
    return [(n, "harder", seed + j) for j in range(k)]


def decide(
    means: dict[str, dict[str, float]], boot: dict[str, dict[str, float]]
) -> tuple[bool | None, str]:
    """The verdict from seed-mean AUCs ``means[method][task]`` and the bootstrap intervals."""
    at_ceiling = [
        f"{m} {t} {means[m][t]:.4f}" for m in METHODS for t in TASKS if means[m][t] > CEILING
    ]
    if at_ceiling:
        return None, f"precondition failed: at the ceiling (> {CEILING}): {', '.join(at_ceiling)}"
    if all(boot[t]["low"] > 0 for t in TASKS):
        return True, "OTTAWA ahead on both tasks (95% intervals above 0)"
    behind = [t for t in TASKS if boot[t]["high"] < 0]
    if behind:
        return False, f"OTTAWA behind on {', '.join(behind)} (95% interval below 0)"
    return None, "an interval contains 0: the sample cannot separate the methods on that task"


def run(ctx: RunContext) -> Result:
    sets = settings(ctx.quick, ctx.seed)
    runs = [run_benchmark(n, d, s, ctx.device, METHODS) for n, d, s in sets]
    table = [{m: {t: r["summary"][m][t] for t in TASKS} for m in METHODS} for r in runs]
    means = {m: {t: float(np.mean([row[m][t] for row in table])) for t in TASKS} for m in METHODS}
    boot = paired_bootstrap(runs, "ottawa", "balanced-ot", n_boot=1000, seed=ctx.seed)
    holds, reason = decide(means, boot)
    return Result(
        metric="seed-mean of hall-vs-clean and omi-vs-clean ROC-AUC (harder set)",
        ours=float(np.mean(list(means["ottawa"].values()))),
        baseline=float(np.mean(list(means["balanced-ot"].values()))),
        baseline_name="balanced OT without null (ot.sinkhorn)",
        holds=holds,
        reason=reason if holds is None else "",
        details={
            "verdict_reason": reason,
            "seed_means": means,
            "paired_bootstrap_ottawa_minus_balanced": boot,
            "per_run": table,
            "halomi_style_pair_auc": [r["halomi_style"] for r in runs],
            "adaptive_null_differs_from_median_share": [
                null_rule_share(n, d, s) for n, d, s in sets[:1]
            ],
            "rule": "precondition: both methods <= 0.99 on each task; holds if the paired-bootstrap "
            "95% interval of the seed-mean AUC difference is > 0 on both tasks; no if < 0 on "
            "either; otherwise inconclusive",
        },
        config=claim_config(sets),
        note="A mechanism check on synthetic English pairs with the monolingual MiniLM, not the "
        "paper's HalOmi ablation.",
    )
