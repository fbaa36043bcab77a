"""The comparison rules the zoo claims share, fixed before any run (docs/design.md, section 6).

Accuracy comparisons are paired by seed. ``A`` beats ``B`` when the mean paired difference
exceeds the band ``max(MARGIN, 2 * sd / sqrt(n))`` (the sd term only with >= 3 seeds); it
loses when the difference is below ``-band``; otherwise the two are "close" and, at this
scale, the comparison is inconclusive.
"""

from __future__ import annotations

import statistics

from integral_transformer.zoo import LEARNED_ACCURACY

__all__ = ["MARGIN", "compare", "learned", "mean_accuracy"]

MARGIN = 0.02  # two points of recall accuracy


def mean_accuracy(models) -> float:
    return statistics.fmean(m.metrics["accuracy"] for m in models)


def compare(ours, other) -> dict:
    """``{"diff", "band", "verdict": "beats" | "loses" | "close", "n"}`` for two seed lists."""
    diffs = [
        a.metrics["accuracy"] - b.metrics["accuracy"] for a, b in zip(ours, other, strict=True)
    ]
    n = len(diffs)
    mean = statistics.fmean(diffs)
    band = MARGIN
    if n >= 3:
        band = max(MARGIN, 2 * statistics.stdev(diffs) / n**0.5)
    verdict = "beats" if mean > band else "loses" if mean < -band else "close"
    return {"diff": mean, "band": band, "verdict": verdict, "n": n}


def learned(zoo: dict) -> tuple[bool, float]:
    """The precondition: the vanilla model's mean recall accuracy >= ``LEARNED_ACCURACY``."""
    acc = mean_accuracy(zoo["vanilla"])
    return acc >= LEARNED_ACCURACY, acc


def reason(ok: bool, vanilla_acc: float, holds, close: list[str] | None = None) -> str:
    """Why a zoo claim is inconclusive (empty when it is not)."""
    if holds is not None:
        return ""
    if not ok:
        return (
            f"vanilla reached {100 * vanilla_acc:.1f} % recall accuracy "
            f"(< {100 * LEARNED_ACCURACY:.0f} %): the task was not learned"
        )
    return f"too close to call within the band: {', '.join(close or [])}"


def zoo_table(zoo: dict) -> dict:
    """Per model: mean accuracy and loss, per-seed accuracies, training seconds."""
    return {
        name: {
            "accuracy": mean_accuracy(models),
            "loss": statistics.fmean(m.metrics["loss"] for m in models),
            "per_seed_accuracy": [m.metrics["accuracy"] for m in models],
            "train_seconds": sum(m.wall_seconds for m in models),
            "train_cpu_seconds": sum(m.cpu_seconds for m in models),
        }
        for name, models in zoo.items()
    }
