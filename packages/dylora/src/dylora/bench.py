"""``dylora bench``: DyLoRA vs PEFT LoRA train-step time, and merged/unmerged inference cost.

All cases run in one process on the offline MiniLM (batch 32, sequence 32) with the same
targets (query, value), head (``classifier`` trained) and optimizer (AdamW), so the ratios
compare like with like. PEFT is the baseline when installed (group ``bench-dylora``);
otherwise our layer at a fixed rank (which equals PEFT LoRA, see the tests) stands in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from papershelf.bench import BenchReport, BenchRow, compare

__all__ = ["run"]

BATCH, SEQ, R_MAX = 32, 32, 8


def _train_step(model, batch, sample: Callable[[int], object] | None) -> Callable[[], None]:
    """One AdamW step (``papershelf.train.training_step``), b sampled first when ``sample``."""
    import torch
    from papershelf.text_classification import classification_loss
    from papershelf.train import training_step

    params = [p for p in model.parameters() if p.requires_grad]
    step_fn = training_step(model, classification_loss, torch.optim.AdamW(params, lr=1e-4))
    model.train()
    counter = [0]

    def step() -> None:
        if sample is not None:
            sample(counter[0])
            counter[0] += 1
        step_fn(batch)

    return step


def _forward(model, batch) -> Callable[[], None]:
    import torch

    model.eval()
    inputs = {k: v for k, v in batch.items() if k != "labels"}

    def fwd() -> None:
        with torch.no_grad():
            model(**inputs)

    return fwd


def interleaved(
    cases: dict[str, Callable[[], None]], baseline: str, *, what: str, warmup: int, repeats: int
) -> list[BenchRow]:
    """Median time of each case, timed round-robin so a shared machine's load drifts evenly."""
    return compare(
        cases, baseline, params={"what": what}, warmup=warmup, repeats=repeats, round_robin=True
    )


def run(quick: bool = True) -> BenchReport:
    import torch
    from papershelf.models import load_model

    from dylora.config import DyLoRAConfig
    from dylora.model import get_dylora_model

    threads = torch.get_num_threads()  # Paper(bench_threads=1): set by papershelf's runner
    base, _ = load_model("offline", task="sequence-classification", num_labels=4)
    gen = torch.Generator().manual_seed(0)
    batch = {
        "input_ids": torch.randint(1000, 20000, (BATCH, SEQ), generator=gen),
        "attention_mask": torch.ones(BATCH, SEQ, dtype=torch.long),
        "labels": torch.randint(0, 4, (BATCH,), generator=gen),
    }
    repeats, warmup = (9, 2) if quick else (25, 3)
    targets = ["query", "value"]
    notes = [
        f"offline MiniLM (6 layers, hidden 384), batch {BATCH}, seq {SEQ}, "
        f"targets {targets}, r = r_max = {R_MAX}, AdamW; torch threads {threads}"
    ]

    def dylora(**kw):
        cfg = DyLoRAConfig(
            r_max=R_MAX, alpha=16.0, target_modules=targets, modules_to_save=["classifier"], **kw
        )
        return get_dylora_model(copy.deepcopy(base), cfg)

    cases: dict[str, Callable[[], None]] = {}
    baseline = "LoRA r=8 (ours, fixed rank)"
    try:
        import peft

        lora = peft.get_peft_model(
            copy.deepcopy(base),
            peft.LoraConfig(
                r=R_MAX, lora_alpha=16, target_modules=targets, modules_to_save=["classifier"]
            ),
        )
        baseline = "PEFT LoRA r=8"
        cases[baseline] = _train_step(lora, batch, None)
    except ImportError:
        notes.append(
            "peft is not installed (uv sync --group bench-dylora): baseline is our layer at a fixed rank"
        )
        ours = dylora(update_mode="all")
        ours.set_rank(R_MAX)
        cases[baseline] = _train_step(ours, batch, None)
    for mode in ("frozen", "all"):
        m = dylora(update_mode=mode)
        m.set_rank(R_MAX)
        cases[f"DyLoRA {mode}, b = r_max"] = _train_step(m, batch, None)
    sampled = dylora(update_mode="frozen")
    cases["DyLoRA frozen, b sampled per step"] = _train_step(sampled, batch, sampled.sample_rank)
    rows = interleaved(cases, baseline, what="train step", warmup=warmup, repeats=repeats)

    plain = copy.deepcopy(base)
    unmerged = dylora()
    with torch.no_grad():
        for layer in unmerged.dylora_layers.values():
            layer.lora_B.weight.normal_(std=0.01)
    rank1 = dylora()
    rank1.set_rank(1)
    merged = dylora()
    merged_model = merged.merge_and_unload(rank=R_MAX)
    forward_cases = {
        "base model": _forward(plain, batch),
        "DyLoRA merged (b = 8)": _forward(merged_model, batch),
        "DyLoRA unmerged, b = 8": _forward(unmerged, batch),
        "DyLoRA unmerged, b = 1": _forward(rank1, batch),
    }
    rows += interleaved(
        forward_cases, "base model", what="inference forward", warmup=warmup, repeats=repeats
    )
    notes.append(
        "train-step ratios are against the PEFT LoRA step; forward ratios against the base model;"
        " cases are timed round-robin (median of the repeats)"
    )
    return BenchReport(
        title="DyLoRA step and inference cost", rows=rows, baseline=baseline, notes=notes
    )
