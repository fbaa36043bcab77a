"""C2 quick: with a CNN teacher and a tiny CNN student on 8×8 digits (the CIFAR/ResNet
setting of Tables 1–2 in miniature), Continuation-KD > Annealing-KD > training from scratch.

Rule, fixed before the run: holds iff mean test accuracy (5 seeds) orders as
Continuation > Annealing > scratch CE. Precondition: the CNN teacher reaches >= 90 % test
accuracy in every seed and the scratch student >= 70 % on average (both learned digits).
Quick settings (halved from the spec's n = 40, T_max = 20 for the 2-minute budget, same
k = 2 and the same 3/4 point of ψ): n = 20, T_max = 10, ψ(i) = min(1, i/15), margin 1
(sum distance; no grid); Annealing-KD T_max 5, k = 15 epochs then 5 CE epochs; the
teacher conv(1→16)-conv(16→32)-fc trained 10 epochs. --full uses the spec's n = 40.
"""

from __future__ import annotations

import functools

from papershelf.distill import precompute_teacher_logits
from papershelf.registry import Result, RunContext

from continuation_kd import digits as D
from continuation_kd.config import AnnealingKDConfig, ContinuationKDConfig

QUICK = {
    "epochs": 20,
    "teacher_epochs": 10,
    "continuation": ContinuationKDConfig(t_max=10, n_epochs=20, psi="linear:15:15", margin=1.0),
    "annealing": AnnealingKDConfig(t_max=5, phase1_epochs=15, phase2_epochs=5),
}
FULL = {
    "epochs": 40,
    "teacher_epochs": 20,
    "continuation": ContinuationKDConfig(t_max=20, n_epochs=40, psi="linear:30:30", margin=1.0),
    "annealing": AnnealingKDConfig(t_max=10, phase1_epochs=30, phase2_epochs=10),
}


def run(ctx: RunContext) -> Result:
    n_seeds = 5 if ctx.quick else 10
    setting = QUICK if ctx.quick else FULL
    epochs, teacher_epochs = setting["epochs"], setting["teacher_epochs"]
    cont, ann = setting["continuation"], setting["annealing"]
    seeds = [ctx.seed + s for s in range(n_seeds)]
    per: dict[str, list[float]] = {"continuation": [], "annealing": [], "scratch": []}
    teacher_acc = []
    for seed in seeds:
        split = D.digits_split(seed).as_images()
        teacher = D.train_teacher(D.cnn_teacher(seed * 7 + 11), split, teacher_epochs, seed)
        teacher_acc.append(D.evaluate(teacher, split.test)["accuracy"])
        logits = precompute_teacher_logits(teacher, split.train)
        student = functools.partial(D.cnn_student, seed * 7 + 12)  # same init for every method
        per["continuation"].append(
            D.run_method(
                "continuation", student(), split, logits, epochs=epochs, seed=seed, config=cont
            )["test"]
        )
        per["annealing"].append(
            D.run_method(
                "annealing", student(), split, logits, epochs=epochs, seed=seed, config=ann
            )["test"]
        )
        per["scratch"].append(
            D.run_method("finetune", student(), split, None, epochs=epochs, seed=seed)["test"]
        )
    table = {}
    for name, values in per.items():
        mean, half = D.mean_ci(values)
        table[name] = {"mean": mean, "ci95": half, "per_seed": values}
    table["continuation_minus_annealing"] = D.paired_stats(per["continuation"], per["annealing"])
    table["annealing_minus_scratch"] = D.paired_stats(per["annealing"], per["scratch"])
    c, a, s = (table[k]["mean"] for k in ("continuation", "annealing", "scratch"))
    holds: bool | None = c > a > s
    reason = ""
    if min(teacher_acc) < 0.90 or s < 0.70:
        holds = None
        reason = (
            f"CNN teacher test accuracy min {100 * min(teacher_acc):.1f} % (needs >= 90 %), "
            f"scratch student mean {100 * s:.1f} % (needs >= 70 %)"
        )
    return Result(
        metric="test accuracy, CNN student (mean of seeds)",
        ours=c,
        baseline=a,
        baseline_name="Annealing-KD",
        holds=holds,
        reason=reason,
        details={"seeds": seeds, "teacher_test_accuracy": teacher_acc, **table},
        config={
            "teacher": f"conv(1-16)-conv(16-32)-pool-fc, {teacher_epochs} epochs",
            "student": "conv(1-4)-pool-fc",
            "continuation": cont.to_dict(),
            "annealing": ann.to_dict(),
            "batch_size": 64,
            "lr": 1e-3,
        },
        note=(
            f"means: continuation {100 * c:.2f}, annealing {100 * a:.2f}, scratch {100 * s:.2f} "
            f"(continuation − annealing {100 * table['continuation_minus_annealing']['mean_diff']:+.2f}, "
            f"p={table['continuation_minus_annealing']['p_value']:.2g})"
        ),
    )
