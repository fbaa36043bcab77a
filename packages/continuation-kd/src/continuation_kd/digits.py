"""The quick experiments' data, models and runs: scikit-learn's 8×8 digits (no download).

One seed fixes the stratified split (1,000 train / 200 val / 597 test), every model's
initialisation and the batch order, identically for every method. Shared by the claims
(``claims/``) and the tests; nothing here is a claim's rule.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from continuation_kd.config import (
    AnnealingKDConfig,
    ContinuationKDConfig,
    DistillConfig,
    TAKDConfig,
    VanillaKDConfig,
)
from continuation_kd.distillation import distill, evaluate

__all__ = [
    "DigitsSplit",
    "cnn_student",
    "cnn_teacher",
    "digits_split",
    "mlp",
    "noisy_logits",
    "paired_stats",
    "train_teacher",
]

N_TRAIN, N_VAL = 1000, 200


@dataclass
class DigitsSplit:
    """Split dicts ``{"x": (n, 64) float in [0, 1], "labels": (n,) long}``."""

    train: dict[str, torch.Tensor]
    val: dict[str, torch.Tensor]
    test: dict[str, torch.Tensor]

    def as_images(self) -> DigitsSplit:
        """The same split with ``x`` as ``(n, 1, 8, 8)`` images."""
        img = lambda d: {"x": d["x"].reshape(-1, 1, 8, 8), "labels": d["labels"]}  # noqa: E731
        return DigitsSplit(img(self.train), img(self.val), img(self.test))


@functools.lru_cache(maxsize=32)
def digits_split(seed: int) -> DigitsSplit:
    """Stratified 1,000 / 200 / 597 split of ``load_digits`` scaled to [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    x_tr, x_rest, y_tr, y_rest = train_test_split(
        x, y, train_size=N_TRAIN, stratify=y, random_state=seed
    )
    x_va, x_te, y_va, y_te = train_test_split(
        x_rest, y_rest, train_size=N_VAL, stratify=y_rest, random_state=seed
    )

    def split(a, b):
        return {"x": torch.tensor(a, dtype=torch.float32), "labels": torch.tensor(b)}

    return DigitsSplit(split(x_tr, y_tr), split(x_va, y_va), split(x_te, y_te))


def mlp(widths: tuple[int, ...], seed: int) -> nn.Sequential:
    """An MLP ``widths[0] → … → widths[-1]`` with ReLU, initialised from ``seed``."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def cnn_teacher(seed: int, c1: int = 16, c2: int = 32) -> nn.Sequential:
    """conv(1→c1)-conv(c1→c2)-fc on ``(n, 1, 8, 8)`` images, initialised from ``seed``."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c1, c2, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * 16, 10),
    )


def cnn_student(seed: int, channels: int = 4) -> nn.Sequential:
    """conv(1→4)-pool-fc on ``(n, 1, 8, 8)`` images, initialised from ``seed``."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(channels * 16, 10),
    )


def train_teacher(model: nn.Module, split: DigitsSplit, epochs: int, seed: int) -> nn.Module:
    """Fine-tune ``model`` on hard labels (Adam 1e-3, batch 64), best on val; eval mode."""
    distill(
        model,
        None,
        split.train,
        split.val,
        method="finetune",
        train_args=DistillConfig(epochs=epochs, seed=seed),
    )
    return model.eval()


def noisy_logits(logits: torch.Tensor, seed: int) -> torch.Tensor:
    """``logits`` plus fixed per-example Gaussian noise whose std is the logits' std."""
    gen = torch.Generator().manual_seed(seed)
    return logits + logits.std() * torch.randn(logits.shape, generator=gen)


def run_method(
    method: str,
    student: nn.Module,
    split: DigitsSplit,
    teacher_logits: torch.Tensor | None,
    *,
    epochs: int,
    seed: int,
    config: Any = None,
    teacher: nn.Module | None = None,
    ta: nn.Module | None = None,
) -> dict[str, float]:
    """Train ``student`` by ``method``; test accuracy of the best-on-val and last weights."""
    args = DistillConfig(epochs=epochs, seed=seed)
    result = distill(
        student,
        teacher,
        split.train,
        split.val,
        method=method,
        config=config,
        train_args=args,
        teacher_logits=teacher_logits,
        ta=ta,
    )
    best = evaluate(result.student, split.test)["accuracy"]
    result.student.load_state_dict(result.last_state)
    last = evaluate(result.student, split.test)["accuracy"]
    return {"test": best, "test_last": last, "val": result.metrics["best_val"]}


def paired_stats(ours: list[float], base: list[float]) -> dict[str, float]:
    """Mean paired difference ``ours − base``, its 95 % t interval and the paired t-test p."""
    import numpy as np
    from scipy import stats

    d = np.asarray(ours) - np.asarray(base)
    n = len(d)
    mean = float(d.mean())
    if n < 2 or float(d.std(ddof=1)) == 0.0:
        return {"mean_diff": mean, "ci_low": mean, "ci_high": mean, "p_value": float("nan")}
    sem = float(d.std(ddof=1)) / np.sqrt(n)
    half = float(stats.t.ppf(0.975, n - 1)) * sem
    p = float(stats.ttest_rel(ours, base).pvalue)
    return {"mean_diff": mean, "ci_low": mean - half, "ci_high": mean + half, "p_value": p}


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the 95 % t half-width."""
    import numpy as np
    from scipy import stats

    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), 0.0
    half = float(stats.t.ppf(0.975, len(v) - 1)) * float(v.std(ddof=1)) / np.sqrt(len(v))
    return float(v.mean()), half


# --- the C1/C3 setting (spec "C1 quick"), memoised per seed so C3 reuses C1's runs ---

C1_EPOCHS = 30
#: the spec's margin grid (full runs); quick runs use C1_QUICK_MARGINS for the 2-minute budget
C1_MARGINS = (0.0, 0.5, 1.0, 2.0)
C1_QUICK_MARGINS = (0.0, 1.0)
C1_TEACHER_EPOCHS = 20
C1_KD = VanillaKDConfig(tau=4.0, alpha=0.5)


def c1_continuation_config(margin: float, **ablation: bool) -> ContinuationKDConfig:
    """n = 30, T_max = 10, ψ Eq. 8, the given margin (sum distance)."""
    return ContinuationKDConfig(t_max=10, n_epochs=C1_EPOCHS, psi="eq8", margin=margin, **ablation)


@functools.lru_cache(maxsize=32)
def c1_teacher(seed: int) -> tuple[torch.Tensor, float]:
    """The seed's MLP 64-256-256-10 teacher: its train logits ``(1000, 10)`` and test accuracy."""
    from papershelf.distill import precompute_teacher_logits

    split = digits_split(seed)
    teacher = train_teacher(mlp((64, 256, 256, 10), seed * 7 + 1), split, C1_TEACHER_EPOCHS, seed)
    return precompute_teacher_logits(teacher, split.train), evaluate(teacher, split.test)[
        "accuracy"
    ]


def c1_teacher_logits(seed: int, arm: str) -> torch.Tensor:
    clean, _ = c1_teacher(seed)
    return noisy_logits(clean, seed * 7 + 5) if arm == "noisy" else clean


def _student(seed: int) -> nn.Module:
    return mlp((64, 16, 10), seed * 7 + 2)


@functools.lru_cache(maxsize=64)
def c1_finetune(seed: int) -> dict[str, float]:
    return run_method(
        "finetune", _student(seed), digits_split(seed), None, epochs=C1_EPOCHS, seed=seed
    )


@functools.lru_cache(maxsize=64)
def c1_continuation(seed: int, arm: str, margin: float, ablation: tuple = ()) -> dict[str, float]:
    """One Continuation-KD run of the C1 setting (``ablation``: ``(("anneal_psi", False),)``)."""
    return run_method(
        "continuation",
        _student(seed),
        digits_split(seed),
        c1_teacher_logits(seed, arm),
        epochs=C1_EPOCHS,
        seed=seed,
        config=c1_continuation_config(margin, **dict(ablation)),
    )


def c1_selected_margin(seed: int, arm: str, margins: tuple[float, ...] = C1_MARGINS) -> float:
    """The margin of ``margins`` with the best validation accuracy (ties: the smaller)."""
    scores = [(c1_continuation(seed, arm, m)["val"], -m) for m in margins]
    return -max(scores)[1]


@functools.lru_cache(maxsize=64)
def c1_baseline(seed: int, arm: str, method: str) -> dict[str, float]:
    """Vanilla KD, TAKD (TA MLP 64-64-10) or Annealing-KD (k = 20, then 10 CE epochs)."""
    split, logits = digits_split(seed), c1_teacher_logits(seed, arm)
    if method == "kd":
        return run_method(
            "kd", _student(seed), split, logits, epochs=C1_EPOCHS, seed=seed, config=C1_KD
        )
    if method == "annealing":
        cfg = AnnealingKDConfig(t_max=10, phase1_epochs=20, phase2_epochs=10)
        return run_method(
            "annealing", _student(seed), split, logits, epochs=C1_EPOCHS, seed=seed, config=cfg
        )
    if method == "takd":
        ta = mlp((64, 64, 10), seed * 7 + 3)
        distill(
            ta,
            None,
            split.train,
            split.val,
            method="kd",
            config=C1_KD,
            train_args=DistillConfig(epochs=C1_EPOCHS, seed=seed),
            teacher_logits=logits,
        )
        ta.eval()
        cfg = TAKDConfig(ta_kd=C1_KD, student_kd=C1_KD)
        return run_method(
            "kd",
            _student(seed),
            split,
            None,
            epochs=C1_EPOCHS,
            seed=seed,
            config=cfg.student_kd,
            teacher=ta,
        )
    raise ValueError(method)
