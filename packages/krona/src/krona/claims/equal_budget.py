"""Claim ``equal-budget``: at an equal trainable-parameter budget KronA fine-tunes at least
as well as LoRA (paper: T5 on GLUE, KronA 86.14 vs LoRA 85.73 average).

Ours: the offline all-MiniLM-L6-v2 with a mean-pooled linear head on
``papershelf.data.synthetic_text_classification`` (4 topics, held-out test words); adapters
on query/value of all 6 layers: KronA 16×16⊗24×24 (832 per module, 9,984 total), LoRA r=1
(768, 9,216) and LoRA r=2 (1,536, 18,432); the head (1,540) trains in every run. Several
seeds; mean ± sd of test accuracy and NLL.
"""

from __future__ import annotations

import statistics

from papershelf.registry import Result, RunContext
from papershelf.text_classification import classification_loss, evaluate, load_encoder_task
from papershelf.train import TrainConfig, train

from krona.comparison import METHODS, build_classifier

#: linear warm-up steps, then linear decay to 0 (AdamW, weight decay 0)
WARMUP_STEPS = 10


def run(ctx: RunContext) -> Result:
    if ctx.quick:
        seeds, steps, batch, lr, n_train, n_test, words = 3, 60, 16, 3e-3, 480, 400, 8
    else:
        seeds, steps, batch, lr, n_train, n_test, words = 5, 300, 32, 2e-3, 2000, 400, 12
    task = load_encoder_task(
        ctx.seed,
        num_classes=4,
        n_train=n_train,
        n_test=n_test,
        max_length=64,
        words_per_text=words,
        head=False,  # the bare encoder: build() adds the mean-pooled head
    )
    encoder, train_split, test_split = task.base, task.train, task.test
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
    budgets: dict[str, int] = {}
    for s in range(ctx.seed, ctx.seed + seeds):
        for method in METHODS:
            model, n = build_classifier(method, encoder, task.num_classes, s)
            budgets[method] = n
            config = TrainConfig(
                max_steps=steps,
                lr=lr,
                batch_size=batch,
                weight_decay=0.0,
                warmup_steps=WARMUP_STEPS,
                schedule="linear",
                seed=s,
                progress=False,
            )
            state = train(model, train_split, classification_loss, config)
            runs[method].append(
                {**evaluate(model, test_split), "final_train_loss": state.losses[-1], "seed": s}
            )
    summary = {
        m: {
            k: {"mean": statistics.mean(r[k] for r in rs), "sd": statistics.stdev(r[k] for r in rs)}
            for k in ("accuracy", "nll")
        }
        for m, rs in runs.items()
    }
    acc = {m: summary[m]["accuracy"]["mean"] for m in METHODS}
    nll = {m: summary[m]["nll"]["mean"] for m in METHODS}
    holds = (
        acc["krona"] >= acc["lora_r1"]
        and nll["krona"] <= nll["lora_r1"]
        and acc["krona"] >= acc["lora_r2"] - 0.01
    )
    return Result(
        metric=f"test accuracy, mean of {seeds} seeds (KronA {budgets['krona']} adapter params)",
        ours=acc["krona"],
        baseline=acc["lora_r1"],
        baseline_name=f"LoRA r=1 ({budgets['lora_r1']} adapter params)",
        holds=holds,
        details={
            "summary": summary,
            "runs": runs,
            "adapter_params": budgets,
            "head_params": 384 * 4 + 4,
            "lora_r2_accuracy": acc["lora_r2"],
            "paper (T5 GLUE avg; quoted from the authors' slides)": {"KronA": 86.14, "LoRA": 85.73},
        },
        config={
            "model": "all-MiniLM-L6-v2 + mean pooling + linear head",
            "targets": ["query", "value"],
            "krona_shapes": [[16, 16], [24, 24]],
            "scale": 1.0,
            "lora_alpha_over_r": 1.0,
            "seeds": seeds,
            "steps": steps,
            "batch": batch,
            "lr": lr,
            "warmup": WARMUP_STEPS,
            "schedule": "linear decay",
            "optimizer": "AdamW wd=0",
            "n_train": n_train,
            "n_test": n_test,
            "words_per_text": words,
        },
        note="Holds if KronA's mean accuracy >= LoRA r=1's with NLL <=, and within 1 point of LoRA r=2. "
        "Indicative: the paper's 0.41-point gap is below what 3 CPU seeds resolve.",
    )
