"""The paper record (light: no torch import; each claim runs ``continuation_kd.claims.<id>:run``)."""

from __future__ import annotations

from papershelf.registry import Claim, Paper

PAPER = Paper(
    id="continuation-kd",
    title="Continuation KD: Improved Knowledge Distillation through the Lens of Continuation "
    "Optimization",
    arxiv="2212.05998",
    claims=(
        Claim(
            id="c1-noisy-teacher",
            statement="Continuation-KD beats fine-tuning, vanilla KD, TAKD and Annealing-KD "
            "(quick: digits MLP, noisy-teacher arm, 10 seeds; the clean arm is reported).",
            paper_value="Table 3 GLUE dev score (DistilRoBERTa): fine-tune 82.81, KD 83.85, "
            "TAKD 83.91, Annealing 84.56, Continuation 85.64; Table 4 test: 82.02 / 82.14 / "
            "82.14 / 82.58 / 83.24",
            run="continuation_kd.claims.c1_noisy_teacher:run",
            quick_budget_s=90.0,
            threads=1,
            precondition="the teacher reaches >= 90 % test accuracy in every seed and the "
            "fine-tuned student >= 80 % on average",
        ),
        Claim(
            id="c2-cnn",
            statement="With a small CNN student, Continuation-KD > Annealing-KD > training from "
            "scratch (quick: digits CNNs, 5 seeds).",
            paper_value="Table 1 CIFAR-10 ResNet-8: scratch 88.44, Annealing 89.44, Continuation "
            "90.21; CIFAR-100: 61.37 / 63.1 / 64.2",
            run="continuation_kd.claims.c2_cnn:run",
            quick_budget_s=30.0,
            threads=1,
            precondition="the CNN teacher reaches >= 90 % test accuracy in every seed and the "
            "scratch student >= 70 % on average",
        ),
        Claim(
            id="c3-ablation",
            statement="All three dynamic parts (ψ, teacher scale, margin) together beat any one "
            "of them alone (quick: C1's noisy arm, 10 seeds).",
            paper_value="Table 7 MRPC: ψ-only 91.09, teacher-only 91.21, margin-only 90.90, all "
            "91.93; RTE: 72.56 / 73.64 / 71.48 / 77.62",
            run="continuation_kd.claims.c3_ablation:run",
            quick_budget_s=40.0,
            threads=1,
            precondition="as c1-noisy-teacher: the teacher >= 90 % test accuracy in every seed "
            "and the fine-tuned student >= 80 % on average",
        ),
    ),
    bench="continuation_kd.bench:run",
    bench_threads=1,
)
