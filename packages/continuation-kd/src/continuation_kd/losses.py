"""The distillation losses as ``nn.Module`` s with one interface for every method.

Each loss has ``set_epoch(i)`` (1-based, as the paper counts), ``needs_teacher`` (whether
``forward`` uses teacher logits at the current epoch, so a caller can skip the teacher's
forward) and ``forward(student_logits (B, K), labels (B,), teacher_logits (B, K) | None)
-> scalar``. The training loop (``continuation_kd.distillation``) and the Hugging Face
Trainer path (``continuation_kd.hf``) drive them alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from papershelf.distill import kd_loss
from papershelf.errors import UserError
from torch import nn

from continuation_kd.config import (
    AnnealingKDConfig,
    ContinuationKDConfig,
    FineTuneConfig,
    VanillaKDConfig,
)
from continuation_kd.functional import annealing_loss, continuation_loss, hard_loss
from continuation_kd.schedule import ContinuationSchedule, ScheduleState

if TYPE_CHECKING:
    import torch

__all__ = [
    "AnnealingKDLoss",
    "ContinuationKDLoss",
    "DistillLoss",
    "FineTuneLoss",
    "VanillaKDLoss",
]


class DistillLoss(nn.Module):
    """Base: holds the current 1-based epoch; subclasses implement ``forward``."""

    n_epochs: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.epoch = 1

    def set_epoch(self, epoch: int) -> None:
        """Set the 1-based epoch ``i`` (HF's 0-based float epoch e maps to ``floor(e) + 1``)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
            raise UserError(f"epoch: must be an integer >= 1 (epochs are 1-based), got {epoch!r}")
        if self.n_epochs is not None and epoch > self.n_epochs:
            raise UserError(f"epoch: must be in 1..{self.n_epochs}, got {epoch}")
        self.epoch = epoch

    @property
    def needs_teacher(self) -> bool:
        return True


class ContinuationKDLoss(DistillLoss):
    """Continuation-KD (Eq. 3–5): ``ψ(i)·CE + (1 − ψ(i))·hinge(‖z_S − φ(T_i) z_T‖² − m·φ)``.

    ``needs_teacher`` is False once ψ(i) = 1 (the teacher's forward can be skipped).
    """

    def __init__(self, config: ContinuationKDConfig | None = None) -> None:
        super().__init__()
        self.config = config or ContinuationKDConfig()
        self.schedule = ContinuationSchedule(self.config)
        self.n_epochs = self.config.n_epochs

    @property
    def state(self) -> ScheduleState:
        return self.schedule.at(self.epoch)

    @property
    def needs_teacher(self) -> bool:
        return self.state.psi < 1.0

    def forward(
        self,
        student_logits: torch.Tensor,
        labels: torch.Tensor,
        teacher_logits: torch.Tensor | None = None,
    ) -> torch.Tensor:
        s = self.state
        return continuation_loss(
            student_logits,
            teacher_logits,
            labels,
            phi=s.phi,
            psi=s.psi,
            margin=self.config.margin,
            margin_factor=s.margin_factor,
            distance=self.config.distance,
            task=self.config.task,
        )


class AnnealingKDLoss(DistillLoss):
    """Annealing-KD (Eq. 2): for ``i ≤ k`` (phase 1) ``‖z_S − φ_i z_T‖²`` with
    ``φ_i = min(T_max, 1 + ⌊(i−1)/⌊k/T_max⌋⌋)/T_max`` (the official code's temperature
    rising 1 → T_max), then CE. ``restart_epoch`` is where phase 2 restarts from the best
    phase-1 weights with a fresh optimizer (``None``: no restart)."""

    def __init__(self, config: AnnealingKDConfig | None = None) -> None:
        super().__init__()
        self.config = config or AnnealingKDConfig()
        self.n_epochs = self.config.n_epochs
        self.every = self.config.phase1_epochs // self.config.t_max

    @property
    def phi(self) -> float:
        t_max = self.config.t_max
        return min(t_max, 1 + (self.epoch - 1) // self.every) / t_max

    @property
    def restart_epoch(self) -> int | None:
        cfg = self.config
        if cfg.restart_from_best and cfg.phase2_epochs > 0:
            return cfg.phase1_epochs + 1
        return None

    @property
    def needs_teacher(self) -> bool:
        return self.epoch <= self.config.phase1_epochs

    def forward(self, student_logits, labels, teacher_logits=None):
        if not self.needs_teacher:
            return hard_loss(student_logits, labels, self.config.task)
        if teacher_logits is None:
            raise UserError("teacher_logits: Annealing-KD's phase 1 needs the teacher's logits")
        return annealing_loss(student_logits, teacher_logits, self.phi, self.config.distance)


class VanillaKDLoss(DistillLoss):
    """Hinton KD: ``(1 − α)·CE + α·τ²·KL(σ(z_T/τ) ‖ σ(z_S/τ))`` (``papershelf.distill.kd_loss``)."""

    def __init__(self, config: VanillaKDConfig | None = None) -> None:
        super().__init__()
        self.config = config or VanillaKDConfig()

    @property
    def needs_teacher(self) -> bool:
        return self.config.alpha > 0

    def forward(self, student_logits, labels, teacher_logits=None):
        cfg = self.config
        ce = hard_loss(student_logits, labels)
        if cfg.alpha == 0:
            return ce
        if teacher_logits is None:
            raise UserError("teacher_logits: vanilla KD with alpha > 0 needs the teacher's logits")
        soft = kd_loss(
            student_logits,
            teacher_logits,
            cfg.tau,
            scale_by_t2=cfg.tau_squared,
            reduction=cfg.kl_reduction,
        )
        return (1.0 - cfg.alpha) * ce + cfg.alpha * soft


class FineTuneLoss(DistillLoss):
    """Hard labels only: CE (MSE for regression); never needs the teacher."""

    def __init__(self, config: FineTuneConfig | None = None) -> None:
        super().__init__()
        self.config = config or FineTuneConfig()

    @property
    def needs_teacher(self) -> bool:
        return False

    def forward(self, student_logits, labels, teacher_logits=None):
        return hard_loss(student_logits, labels, self.config.task)
