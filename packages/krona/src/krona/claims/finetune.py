"""Claim ``equal-budget``: at an equal trainable-parameter budget KronA fine-tunes at least
as well as LoRA (paper: T5 on GLUE, KronA 86.14 vs LoRA 85.73 average).

Ours: the offline all-MiniLM-L6-v2 with a mean-pooled linear head on
``papershelf.data.synthetic_text_classification`` (4 topics, held-out test words); adapters
on query/value of all 6 layers: KronA 16×16⊗24×24 (832 per module, 9,984 total), LoRA r=1
(768, 9,216) and LoRA r=2 (1,536, 18,432); the head (1,540) trains in every run. Several
seeds; mean ± sd of test accuracy and NLL.
"""

from __future__ import annotations

import copy
import statistics

import torch
from papershelf.registry import Result, RunContext
from papershelf.text_classification import evaluate, load_encoder_task

from krona.baselines import add_lora
from krona.claims import set_threads
from krona.config import KronAConfig
from krona.experiment import MeanPoolClassifier, train_classifier
from krona.model import get_krona_model

METHODS = ("krona", "lora_r1", "lora_r2")


def build(method: str, encoder: torch.nn.Module, num_labels: int, seed: int, scale: float = 1.0):
    """A fresh classifier (head seeded by ``seed``) with the method's adapters; the model and
    its adapter parameter count."""
    torch.manual_seed(seed)
    model = MeanPoolClassifier(copy.deepcopy(encoder), num_labels)
    if method == "krona":
        km = get_krona_model(model, KronAConfig(scale=scale, modules_to_save=["classifier"]))
        return km, km.num_adapter_parameters()
    r = int(method[-1])
    add_lora(model, r=r, alpha=scale * r, modules_to_save=["classifier"])
    n = sum(p.numel() for n_, p in model.named_parameters() if p.requires_grad and "lora_" in n_)
    return model, n


def run(ctx: RunContext) -> Result:
    threads = set_threads()
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
    encoder, train, test = task.base, task.train, task.test
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
    budgets: dict[str, int] = {}
    for s in range(ctx.seed, ctx.seed + seeds):
        for method in METHODS:
            model, n = build(method, encoder, task.num_classes, s)
            budgets[method] = n
            losses = train_classifier(model, train, steps=steps, lr=lr, batch_size=batch, seed=s)
            runs[method].append(
                {**evaluate(model, test), "final_train_loss": losses[-1], "seed": s}
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
            "warmup": 10,
            "schedule": "linear decay",
            "optimizer": "AdamW wd=0",
            "n_train": n_train,
            "n_test": n_test,
            "words_per_text": words,
            "torch_threads": threads,
        },
        note="Holds if KronA's mean accuracy >= LoRA r=1's with NLL <=, and within 1 point of LoRA r=2. "
        "Indicative: the paper's 0.41-point gap is below what 3 CPU seeds resolve.",
    )
