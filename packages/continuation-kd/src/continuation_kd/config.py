"""Every config of the package, each a validated ``papershelf.config.Config``.

- ``ContinuationKDConfig``: Continuation-KD's schedule (T_max, ψ, margin, distance, ablations).
- ``AnnealingKDConfig``: Annealing-KD (phase 1 on ``‖z_S − φ z_T‖²``, phase 2 on CE).
- ``VanillaKDConfig``: Hinton KD (τ, the soft weight α, the τ² factor, the KL reduction).
- ``TAKDConfig``: teacher → assistant → student, two vanilla-KD stages.
- ``FineTuneConfig``: hard-label CE only (MSE for regression).
- ``DistillConfig``: the optimisation around any of them (epochs, batch, lr, selection).

No torch import here: the CLI validates configs before loading torch. Epochs are 1-based
as in the paper (``i = 1..n``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from papershelf.config import Config, check_choice, check_positive, check_range
from papershelf.distill import KD_REDUCTIONS
from papershelf.errors import UserError

__all__ = [
    "DISTANCES",
    "METHODS",
    "SCHEDULES",
    "TASKS",
    "AnnealingKDConfig",
    "ContinuationKDConfig",
    "DistillConfig",
    "FineTuneConfig",
    "TAKDConfig",
    "VanillaKDConfig",
    "psi_function",
]

DISTANCES = ("sum", "mean")
SCHEDULES = ("even", "paper")
TASKS = ("classification", "regression")
METHODS = ("continuation", "annealing", "kd", "takd", "finetune")
SELECTS = ("best", "last")
OPTIMIZERS = ("adam", "adamw", "sgd")


def psi_function(spec: str | Callable[[int], float]) -> Callable[[int], float]:
    """ψ(i), the CE weight at 1-based epoch ``i``, from its spec.

    ``"eq7"``: ``i/150`` for i ≤ 150, then 1 (CV, Eq. 7). ``"eq8"``: ``i/40`` for i ≤ 20,
    then 1 (NLU, Eq. 8 as printed: 0.5 → 1 at epoch 21). ``"linear:<den>:<end>"``:
    ``i/den`` for i ≤ end, then 1. ``"step:<k>"``: 0 for i ≤ k, then 1 (Annealing-KD).
    ``"const:<c>"``: c. A callable is used as it is.
    """
    if callable(spec):
        return spec
    if not isinstance(spec, str):
        raise UserError(f"psi: must be a schedule name or a callable, got {spec!r}")
    name, *args = spec.split(":")
    try:
        values = [float(a) for a in args]
    except ValueError:
        raise UserError(f"psi: arguments of {spec!r} must be numbers") from None
    if name == "eq7" and not args:
        return lambda i: i / 150 if i <= 150 else 1.0
    if name == "eq8" and not args:
        return lambda i: i / 40 if i <= 20 else 1.0
    if name == "linear" and len(values) == 2 and values[0] > 0:
        den, end = values
        return lambda i: i / den if i <= end else 1.0
    if name == "step" and len(values) == 1:
        (k,) = values
        return lambda i: 0.0 if i <= k else 1.0
    if name == "const" and len(values) == 1:
        (c,) = values
        return lambda i: c
    raise UserError(
        "psi: must be 'eq7', 'eq8', 'linear:<den>:<end>', 'step:<k>', 'const:<c>' or a "
        f"callable epoch -> weight, got {spec!r}"
    )


@dataclass
class ContinuationKDConfig(Config):
    """Continuation-KD (Eq. 3–5, 7–8; Algorithm 1 with T clamped ≥ 1).

    Attributes:
        t_max: T_max ≥ 1; φ(T) = 1 − (T − 1)/T_max runs from 1/T_max to 1 (Eq. 5).
            T is NOT a softmax temperature: it only sets φ.
        n_epochs: n, the number of (1-based) epochs; n ≥ t_max (k = ⌊n/T_max⌋ ≥ 1).
        anneal_epochs: the span φ anneals over (default n); φ = 1 after it.
        psi: ψ, the CE weight, which increases to 1 (see :func:`psi_function`).
        margin: m ≥ 0; the hinge ignores ``‖z_S − φ z_T‖² ≤ m·φ``. The paper gives no value.
        distance: ``"sum"`` (squared L2 per example) or ``"mean"`` (divided by K).
        schedule: ``"even"`` (T_i = max(1, T_max − ⌊(i−1)/k⌋)) or ``"paper"``
            (Algorithm 1: max(1, T_max − ⌊i/k⌋)).
        task: ``"classification"`` (CE) or ``"regression"`` (MSE, num_labels = 1).
        anneal_psi / anneal_teacher / anneal_margin: Table 7 ablations; off means ψ = 0.5,
            teacher factor 1, margin factor 1.
    """

    t_max: int = 10
    n_epochs: int = 30
    anneal_epochs: int | None = None
    psi: Any = "eq8"
    margin: float = 1.0
    distance: str = "sum"
    schedule: str = "even"
    task: str = "classification"
    anneal_psi: bool = True
    anneal_teacher: bool = True
    anneal_margin: bool = True

    def validate(self) -> None:
        check_range("t_max", self.t_max, low=1)
        check_range("n_epochs", self.n_epochs, low=1)
        span = self.n_epochs if self.anneal_epochs is None else self.anneal_epochs
        if self.anneal_epochs is not None:
            check_range("anneal_epochs", self.anneal_epochs, low=1, high=self.n_epochs)
        if span < self.t_max:
            name = "n_epochs" if self.anneal_epochs is None else "anneal_epochs"
            raise UserError(
                f"{name}: must be >= t_max ({self.t_max}), got {span}: k = ⌊n/T_max⌋ would be 0"
            )
        check_range("margin", self.margin, low=0)
        check_choice("distance", self.distance, DISTANCES)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("task", self.task, TASKS)
        fn = psi_function(self.psi)
        previous = -math.inf
        for i in range(1, self.n_epochs + 1):
            value = float(fn(i))
            if not 0.0 <= value <= 1.0:
                raise UserError(f"psi: must stay in [0, 1], got ψ({i}) = {value}")
            if value < previous:
                raise UserError(f"psi: must not decrease, got ψ({i}) = {value} < ψ({i - 1})")
            previous = value

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if callable(self.psi):
            data["psi"] = f"<callable {getattr(self.psi, '__name__', 'psi')}>"
        return data


@dataclass
class AnnealingKDConfig(Config):
    """Annealing-KD (Eq. 2): phase 1 is ``‖z_S − φ z_T‖²`` with φ over ``phase1_epochs``,
    phase 2 is CE, restarted from the best phase-1 weights with a fresh optimizer."""

    t_max: int = 10
    phase1_epochs: int = 20
    phase2_epochs: int = 10
    restart_from_best: bool = True
    distance: str = "mean"
    task: str = "classification"

    def validate(self) -> None:
        check_range("t_max", self.t_max, low=1)
        check_range("phase1_epochs", self.phase1_epochs, low=self.t_max)
        check_range("phase2_epochs", self.phase2_epochs, low=0)
        check_choice("distance", self.distance, DISTANCES)
        check_choice("task", self.task, TASKS)

    @property
    def n_epochs(self) -> int:
        return self.phase1_epochs + self.phase2_epochs


@dataclass
class VanillaKDConfig(Config):
    """Hinton KD: ``(1 − α)·CE + α·τ²·KL(σ(z_T/τ) ‖ σ(z_S/τ))``; α is the soft weight."""

    tau: float = 4.0
    alpha: float = 0.5
    tau_squared: bool = True
    kl_reduction: str = "batchmean"

    def validate(self) -> None:
        check_positive("tau", self.tau)
        check_range("alpha", self.alpha, low=0, high=1)
        check_choice("kl_reduction", self.kl_reduction, KD_REDUCTIONS[:2])


@dataclass
class TAKDConfig(Config):
    """TAKD: teacher → assistant by ``ta_kd``, then assistant → student by ``student_kd``."""

    ta_kd: VanillaKDConfig = field(default_factory=VanillaKDConfig)
    student_kd: VanillaKDConfig = field(default_factory=VanillaKDConfig)


@dataclass
class FineTuneConfig(Config):
    """Plain fine-tuning on hard labels: CE (MSE for ``task="regression"``)."""

    task: str = "classification"

    def validate(self) -> None:
        check_choice("task", self.task, TASKS)


@dataclass
class DistillConfig(Config):
    """The optimisation of one ``distill`` run (the shared loop's settings).

    Attributes:
        epochs: training epochs (for continuation / annealing it must equal the method's n).
        batch_size: examples per step; an epoch is ``⌊N / batch_size⌋`` steps.
        select: return the ``"best"`` epoch on validation (the paper's Algorithm 1) or the
            ``"last"``; both are recorded.
        cache_teacher: compute the teacher's logits once (eval mode) instead of per step.
        shuffle: a seeded permutation per epoch (the batch order is a function of
            ``(seed, step)``), or the data in order.
    """

    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    max_grad_norm: float | None = None
    seed: int = 0
    select: str = "best"
    metric: str = "accuracy"
    cache_teacher: bool = True
    shuffle: bool = True
    progress: bool = False

    def validate(self) -> None:
        check_range("epochs", self.epochs, low=1)
        check_range("batch_size", self.batch_size, low=1)
        check_positive("lr", self.lr)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("weight_decay", self.weight_decay, low=0)
        if self.max_grad_norm is not None:
            check_positive("max_grad_norm", self.max_grad_norm)
        check_range("seed", self.seed, low=0)
        check_choice("select", self.select, SELECTS)
        check_choice("metric", self.metric, ("accuracy", "neg_mse"))
