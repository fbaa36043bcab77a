"""Claim 2 (``search-free``): one DyLoRA run replaces a sweep of separate LoRA runs over the ranks.

The sweep trains LoRA at each rank in ``ranks`` (the same steps, data and α each time) and
evaluates each once; DyLoRA trains once at r_max and evaluates every rank of the sweep.
Wall and CPU times are measured in this process and reported; they are not the verdict:
that N separate runs take about N times one run holds by construction (every run here has
the same steps and batch), so the claim is decided on its accuracy condition alone.

Rule, fixed before the run: holds if DyLoRA's best-rank test accuracy is at least the
sweep's best minus 1 point, fails otherwise. Precondition: the sweep learns the task (its
best accuracy >= ``MIN_ACCURACY``; chance is 1 / number of classes), else inconclusive.
"""

from __future__ import annotations

import time

from papershelf.registry import Result, RunContext
from papershelf.text_classification import evaluate, load_encoder_task

from dylora.encoder_runs import ALPHA, R_MAX, dylora_encoder, encoder_config, train_adapter
from dylora.model import evaluate_ranks
from dylora.plots import plot_rank_curves

MIN_ACCURACY = 0.7
TOLERANCE = 0.01


def run(ctx: RunContext) -> Result:
    start = time.perf_counter()
    ranks = [1, 2, 4, 8] if ctx.quick else list(range(1, R_MAX + 1))
    steps = 100 if ctx.quick else 600
    task = load_encoder_task(ctx.seed, n_train=2000, n_test=400)
    train = dict(steps=steps, lr=2e-3, batch_size=32, warmup=10, seed=ctx.seed)

    sweep: dict[int, dict[str, float]] = {}
    sweep_train = sweep_total = sweep_cpu = 0.0
    for r in ranks:
        t0, c0 = time.perf_counter(), time.process_time()
        model = dylora_encoder(task, encoder_config(ctx.seed, r_max=r, update_mode="all"))
        sweep_train += train_adapter(model, task.train, fixed_rank=r, **train)["seconds"]
        model.eval()
        sweep[r] = evaluate(model, task.test)
        sweep_total += time.perf_counter() - t0
        sweep_cpu += time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    dylora = dylora_encoder(task, encoder_config(ctx.seed))
    dy_train = train_adapter(dylora, task.train, **train)["seconds"]
    dy = evaluate_ranks(dylora, lambda m: evaluate(m, task.test), ranks)
    dy_total = time.perf_counter() - t0
    dy_cpu = time.process_time() - c0

    ratio_train = sweep_train / dy_train
    ratio_total = sweep_total / dy_total
    # On a shared machine the wall clock drifts with other jobs' load; process CPU time (both
    # arms run with the same threads) drifts less, so the claim is judged on it; both are reported.
    ratio_cpu = sweep_cpu / dy_cpu
    best_sweep = max(ranks, key=lambda b: (sweep[b]["accuracy"], -b))
    best_dy = max(ranks, key=lambda b: (dy[b]["accuracy"], -b))
    acc_diff = dy[best_dy]["accuracy"] - sweep[best_sweep]["accuracy"]
    if sweep[best_sweep]["accuracy"] < MIN_ACCURACY:
        holds: bool | None = None
        reason = (
            f"precondition failed: the LoRA sweep's best accuracy "
            f"{sweep[best_sweep]['accuracy']:.3f} < {MIN_ACCURACY} (the task was not learned)"
        )
    else:
        holds, reason = acc_diff >= -TOLERANCE, ""
    plots = [
        plot_rank_curves(
            ctx.plot_path("search_free_accuracy"),
            {
                "separate LoRA per rank": {b: sweep[b]["accuracy"] for b in ranks},
                "DyLoRA (one run)": {b: dy[b]["accuracy"] for b in ranks},
            },
            "test accuracy",
            "One DyLoRA run vs a LoRA rank sweep",
        )
    ]
    return Result(
        metric="best-rank test accuracy: one DyLoRA run vs a sweep of separate LoRA runs",
        ours=dy[best_dy]["accuracy"],
        baseline=sweep[best_sweep]["accuracy"],
        baseline_name=(
            f"best of {len(ranks)} separate LoRA runs (r = {best_sweep}); sweep/DyLoRA CPU time "
            f"{ratio_cpu:.2f}× (reported, not judged)"
        ),
        holds=holds,
        reason=reason,
        details={
            "ranks": ranks,
            "sweep": {str(b): v for b, v in sweep.items()},
            "dylora": {str(b): v for b, v in dy.items()},
            "seconds": {
                "sweep_train": sweep_train,
                "sweep_total": sweep_total,
                "dylora_train": dy_train,
                "dylora_total": dy_total,
            },
            "time_ratio_train_only": ratio_train,
            "time_ratio_train_plus_eval": ratio_total,
            "cpu_time_ratio_train_plus_eval": ratio_cpu,
            "cpu_seconds": {"sweep_total": sweep_cpu, "dylora_total": dy_cpu},
            "picked_rank": {"sweep": best_sweep, "dylora": best_dy},
            "best_accuracy": {
                "sweep": sweep[best_sweep]["accuracy"],
                "dylora": dy[best_dy]["accuracy"],
            },
            "best_accuracy_difference": acc_diff,
            "seconds_total": time.perf_counter() - start,
        },
        plots=plots,
        config={
            "task": task.description,
            "ranks": ranks,
            "steps": steps,
            "alpha": ALPHA,
            "r_max": R_MAX,
            "batch_size": 32,
            "lr": 2e-3,
            "seed": ctx.seed,
        },
        note=(
            "Holds if DyLoRA's best-rank accuracy is at least the sweep's best − 1 point (the "
            "sweep must reach ≥ 0.7 first). The time ratio is reported only: N equal runs "
            "cost about N× one run by construction."
        ),
    )
