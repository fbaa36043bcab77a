"""Continuation-KD and Annealing-KD losses on logits (pure tensor ops).

Shapes: ``student_logits`` and ``teacher_logits`` are ``(B, K)``; ``labels`` is ``(B,)``
long for classification, ``(B,)`` float for regression (``K = 1``). The teacher logits
are detached here: only the student is trained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from papershelf.errors import UserError

from continuation_kd.config import DISTANCES, TASKS

if TYPE_CHECKING:
    import torch

__all__ = ["annealing_loss", "continuation_loss", "hard_loss", "squared_distance"]


def squared_distance(
    student_logits: torch.Tensor, target: torch.Tensor, distance: str = "sum"
) -> torch.Tensor:
    """Per-example ``Σ_k (z_S,k − t_k)²`` (``"sum"``) or its mean over K (``"mean"``): ``(B,)``."""
    sq = (student_logits - target).pow(2)
    return sq.sum(dim=-1) if distance == "sum" else sq.mean(dim=-1)


def hard_loss(student_logits: torch.Tensor, labels: torch.Tensor, task: str = "classification"):
    """``L_CE = CE(y, σ(z_S))`` averaged over the batch; MSE to the label for regression
    (``student_logits`` ``(B, 1)``, ``labels`` ``(B,)`` float). A scalar."""
    from torch.nn import functional as F

    if task == "regression":
        if student_logits.shape[-1] != 1:
            raise UserError(
                f"task: regression needs num_labels = 1, got {student_logits.shape[-1]} logits"
            )
        return F.mse_loss(student_logits.squeeze(-1), labels.to(student_logits.dtype))
    if labels.is_floating_point():
        raise UserError(
            "labels: classification needs integer class ids, got float labels "
            "(use task='regression' with num_labels = 1)"
        )
    return F.cross_entropy(student_logits, labels)


def _check(student_logits, teacher_logits, distance: str, task: str) -> None:
    if distance not in DISTANCES:
        raise UserError(f"distance: must be 'sum' or 'mean', got {distance!r}")
    if task not in TASKS:
        raise UserError(f"task: must be 'classification' or 'regression', got {task!r}")
    if teacher_logits is not None and teacher_logits.shape != student_logits.shape:
        raise UserError(
            f"teacher_logits: shape {tuple(teacher_logits.shape)} differs from the student's "
            f"{tuple(student_logits.shape)} (teacher and student must have the same label count)"
        )


def continuation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    labels: torch.Tensor,
    *,
    phi: float,
    psi: float,
    margin: float,
    margin_factor: float | None = None,
    distance: str = "sum",
    task: str = "classification",
) -> torch.Tensor:
    """Continuation-KD's loss (Eq. 3–4), a scalar.

    ``L = ψ·L_CE + (1 − ψ)·mean_b max{0, ‖z_S,b − φ·z_T,b‖² − m·f}`` with ``f`` the margin
    factor (φ unless given). The hinge is applied per example, then averaged over the
    batch; it acts on logits (T is not a softmax temperature).

    Args:
        student_logits: ``(B, K)``.
        teacher_logits: ``(B, K)``; may be ``None`` when ``psi == 1`` (CE only).
        labels: ``(B,)`` long (classification) or float (regression, ``K = 1``).
        phi: teacher scale φ(T) ∈ (0, 1] (Eq. 5). psi: CE weight ψ ∈ [0, 1] (Eq. 7/8).
        margin: m ≥ 0. margin_factor: multiplies m (default φ; 1 in the margin ablation).
        distance: ``"sum"`` over classes (squared L2) or ``"mean"`` (divided by K).
    """
    _check(student_logits, teacher_logits, distance, task)
    if not 0.0 <= psi <= 1.0:
        raise UserError(f"psi: must be in [0, 1], got {psi!r}")
    if margin < 0:
        raise UserError(f"margin: must be >= 0, got {margin!r}")
    if psi == 1.0:
        return hard_loss(student_logits, labels, task)
    if teacher_logits is None:
        raise UserError(f"teacher_logits: needed while psi < 1 (psi = {psi})")
    factor = phi if margin_factor is None else margin_factor
    target = phi * teacher_logits.detach().to(student_logits.dtype)
    hinge = (squared_distance(student_logits, target, distance) - margin * factor).clamp_min(0)
    cnt = hinge.mean()
    if psi == 0.0:
        return cnt
    return psi * hard_loss(student_logits, labels, task) + (1.0 - psi) * cnt


def annealing_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    phi: float,
    distance: str = "mean",
) -> torch.Tensor:
    """Annealing-KD's phase-1 loss (Eq. 2): ``mean_b ‖z_S,b − φ·z_T,b‖²``, a scalar.

    ``distance="mean"`` divides by K: ``F.mse_loss(z_S, φ z_T)`` as in the official code.
    Shapes ``(B, K)``.
    """
    _check(student_logits, teacher_logits, distance, "classification")
    target = phi * teacher_logits.detach().to(student_logits.dtype)
    return squared_distance(student_logits, target, distance).mean()
