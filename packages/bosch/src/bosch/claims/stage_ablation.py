"""C3: every stage matters: full BOSCH vs B-single, B-multi, B-layer at ρ = 0.75.

Rule (fixed before the run): holds if full BOSCH's test Ŝ, averaged over 3 solver seeds,
is >= each ablation's average - 0.01. The model is trained once (seed ctx.seed), so the
seeds vary the search only; the per-seed values are reported.
"""

from __future__ import annotations

from papershelf.registry import Result, RunContext

from bosch.compare import failure_reason, memo_score, precondition, setup_details
from bosch.config import BoschConfig
from bosch.search import search_masks
from bosch.workflow import quick_setup

RATIO = 0.75
STAGES = ("full", "single", "multi", "layer")


def run(ctx: RunContext) -> Result:
    setup = quick_setup(ctx.seed)
    details = setup_details(setup)
    if not precondition(setup):
        return Result(
            metric="test Ŝ at ρ = 0.75",
            ours=float("nan"),
            holds=None,
            details=details,
            reason=failure_reason(setup),
        )
    score = memo_score(setup)
    seeds = [ctx.seed + i for i in range(3)]
    values: dict[str, list[float]] = {s: [] for s in STAGES}
    evals: dict[str, list[int]] = {s: [] for s in STAGES}
    masks: dict[str, list[str]] = {s: [] for s in STAGES}
    for stages in STAGES:
        for seed in seeds:
            cfg = BoschConfig(ratio=RATIO, window=setup.window, stages=stages, seed=seed)
            res = search_masks(score, setup.shape, cfg)
            values[stages].append(setup.normalised_test(res.mask))
            evals[stages].append(res.total_evals)
            masks[stages].append(repr(res.mask))
    mean = {k: sum(v) / len(v) for k, v in values.items()}
    best_ablation = max(mean[k] for k in STAGES[1:])
    details.update(test_normalised=values, mean=mean, evaluations=evals, masks=masks, seeds=seeds)
    return Result(
        metric="test Ŝ at ρ = 0.75 (mean of 3 search seeds)",
        ours=mean["full"],
        baseline=best_ablation,
        baseline_name="best of B-single / B-multi / B-layer",
        holds=mean["full"] >= best_ablation - 0.01,
        details=details,
        config={"ratio": RATIO, "seeds": seeds, "window": setup.window},
        note="B-layer with 4 layers converts 3 whole layers (ρ = 0.75 exactly)",
    )
