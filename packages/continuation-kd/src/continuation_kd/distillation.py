"""``distill``: one student trained from one teacher by any method, on the shared loop.

The run is ``papershelf.train.train`` (or ``fit`` with checkpoints and exact resume when
``out_dir`` is given, so it also runs under ``accelerate launch``) with two hooks: one sets
the loss's 1-based epoch before every step (``i = step // steps_per_epoch + 1``; a resumed
run recomputes it from the step), one keeps the best weights on validation.

Data: ``train`` and ``val`` are split dicts of equal-length tensors with ``"labels"``
``(N,)`` and the model inputs (one tensor, e.g. ``"x": (N, 64)``, passed positionally; or
several, e.g. ``input_ids`` and ``attention_mask``, passed as keywords).
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from papershelf.distill import cached_teacher_logits, forward_logits
from papershelf.errors import UserError
from papershelf.train import Hook, TrainConfig, TrainingDiverged, TrainState, fit, train
from torch import nn

from continuation_kd.config import (
    METHODS,
    AnnealingKDConfig,
    ContinuationKDConfig,
    DistillConfig,
    FineTuneConfig,
    TAKDConfig,
    VanillaKDConfig,
)
from continuation_kd.losses import (
    AnnealingKDLoss,
    ContinuationKDLoss,
    DistillLoss,
    FineTuneLoss,
    VanillaKDLoss,
)

__all__ = ["DistillResult", "EpochHook", "distill", "evaluate", "make_loss", "num_labels_of"]

_DEFAULT_CONFIGS = {
    "continuation": ContinuationKDConfig,
    "annealing": AnnealingKDConfig,
    "kd": VanillaKDConfig,
    "takd": TAKDConfig,
    "finetune": FineTuneConfig,
}


@dataclass
class DistillResult:
    """What ``distill`` returns.

    Attributes:
        student: the student, holding the selected weights (``select``: best or last).
        best_state / last_state: state dicts of the best-on-validation and last epoch.
        best_epoch: 1-based epoch of ``best_state``.
        history: per epoch ``{"epoch", "train_loss", <metric>, ...schedule}``.
        metrics: ``best_val``, ``last_val``, ``best_epoch``, ``selected``.
    """

    student: nn.Module
    best_state: dict[str, torch.Tensor]
    last_state: dict[str, torch.Tensor]
    best_epoch: int
    history: list[dict[str, float]]
    metrics: dict[str, Any] = field(default_factory=dict)


def make_loss(method: str, config: Any = None) -> DistillLoss:
    """The loss module of ``method`` (``"continuation"``, ``"annealing"``, ``"kd"``,
    ``"finetune"``); ``config`` defaults to the method's default config."""
    if method not in METHODS or method == "takd":
        allowed = ", ".join(repr(m) for m in METHODS if m != "takd")
        raise UserError(f"method: must be one of {allowed} for a single loss, got {method!r}")
    config = config if config is not None else _DEFAULT_CONFIGS[method]()
    expected = _DEFAULT_CONFIGS[method]
    if not isinstance(config, expected):
        raise UserError(
            f"config: method {method!r} needs a {expected.__name__}, got {type(config).__name__}"
        )
    cls = {
        "continuation": ContinuationKDLoss,
        "annealing": AnnealingKDLoss,
        "kd": VanillaKDLoss,
        "finetune": FineTuneLoss,
    }[method]
    return cls(config)


def evaluate(model: nn.Module, data: Mapping[str, torch.Tensor], metric: str = "accuracy"):
    """``{"accuracy": ...}`` (or ``{"neg_mse": ...}``) of ``model`` on a split dict; eval
    mode, no grad, 512 rows at a time."""
    was_training = model.training
    model.eval()
    chunks = []
    with torch.no_grad():
        n = len(data["labels"])
        for start in range(0, n, 512):
            batch = {k: v[start : start + 512] for k, v in data.items()}
            chunks.append(forward_logits(model, batch).float())
    model.train(was_training)
    logits, labels = torch.cat(chunks), data["labels"]
    if metric == "neg_mse":
        return {"neg_mse": -float((logits.squeeze(-1) - labels.float()).pow(2).mean())}
    return {"accuracy": float((logits.argmax(-1) == labels).float().mean())}


def num_labels_of(model: nn.Module, data: Mapping[str, torch.Tensor]) -> int:
    """The number of logits ``model`` gives on one row of ``data`` (K)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        k = forward_logits(model, {k: v[:1] for k, v in data.items()}).shape[-1]
    model.train(was_training)
    return int(k)


class EpochHook(Hook):
    """Sets the loss's 1-based epoch before each step and restarts Annealing-KD's phase 2
    from the best phase-1 weights with a fresh optimizer state."""

    def __init__(self, loss: DistillLoss, steps_per_epoch: int, tracker: _BestTracker) -> None:
        self.loss, self.spe, self.tracker = loss, steps_per_epoch, tracker

    def on_step_start(self, state: TrainState) -> None:
        epoch = state.step // self.spe + 1
        self.loss.set_epoch(epoch)
        restart = getattr(self.loss, "restart_epoch", None)
        if restart is not None and epoch == restart and state.step % self.spe == 0:
            if self.tracker.best_state is not None:
                _unwrap(state.model).load_state_dict(self.tracker.best_state)
            state.optimizer.state.clear()  # a fresh optimizer, as the Annealing-KD code does


class _BestTracker(Hook):
    """Keeps the best weights on validation (saved to ``out_dir`` when given, for resume)."""

    def __init__(self, metric: str, steps_per_epoch: int, out_dir: Path | None) -> None:
        self.metric, self.spe, self.out_dir = metric, steps_per_epoch, out_dir
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_value, self.best_epoch = -math.inf, 0
        self.evals: list[dict[str, float]] = []
        if out_dir is not None and (out_dir / "best.json").is_file():
            from papershelf.checkpoint import load_tensors

            info = json.loads((out_dir / "best.json").read_text())
            self.best_value, self.best_epoch = info["value"], info["epoch"]
            self.evals = info["evals"]
            self.best_state = load_tensors(out_dir / "best.safetensors", "best checkpoint")

    def on_train_start(self, state: TrainState) -> None:
        # a resumed run re-evaluates nothing before its checkpoint step: keep those evals
        self.evals = [e for e in self.evals if e["step"] <= state.step]

    def on_eval(self, state: TrainState, metrics: dict[str, float]) -> None:
        # recorded here, not from state.evals: fit's checkpoint at a step is written before
        # that step's evaluation, so a resumed state.evals lacks it
        self.evals.append({"step": state.step, **metrics})
        value = metrics[self.metric]
        if value > self.best_value:
            self.best_value, self.best_epoch = value, math.ceil(state.step / self.spe)
            model = _unwrap(state.model)
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if self.out_dir is not None:
                from papershelf.checkpoint import save_tensors

                save_tensors(self.out_dir / "best.safetensors", self.best_state)
        if self.out_dir is not None:
            from papershelf.io import atomic_write_json

            info = {"value": self.best_value, "epoch": self.best_epoch, "evals": self.evals}
            atomic_write_json(self.out_dir / "best.json", info)


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)


def _check_data(name: str, data: Mapping[str, torch.Tensor], k: int, regression: bool) -> int:
    if not isinstance(data, Mapping) or "labels" not in data:
        raise UserError(f"{name}: must be a mapping of tensors with a 'labels' entry")
    sizes = {key: len(v) for key, v in data.items()}
    if len(set(sizes.values())) != 1:
        raise UserError(f"{name}: the tensors must have equal lengths, got {sizes}")
    labels = data["labels"]
    n = len(labels)
    if n == 0:
        raise UserError(f"{name}: has no examples")
    if not regression:
        if labels.is_floating_point():
            raise UserError(f"{name}: labels must be integer class ids, got {labels.dtype}")
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= k:
            bad = low if low < 0 else high
            raise UserError(f"{name}: label {bad} is outside 0..{k - 1} (the student has {k})")
    return n


def _check_label_maps(student: nn.Module, teacher: nn.Module) -> None:
    s = getattr(getattr(student, "config", None), "id2label", None)
    t = getattr(getattr(teacher, "config", None), "id2label", None)
    if s and t and len(s) == len(t) and dict(s) != dict(t):
        raise UserError(
            f"teacher: id2label {dict(t)} differs from the student's {dict(s)} "
            "(a silent label permutation); align them first"
        )


def _prepare_teacher(teacher: nn.Module) -> None:
    if teacher.training:
        warnings.warn("teacher: was in train mode; switched to eval()", stacklevel=3)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)


def distill(
    student: nn.Module,
    teacher: nn.Module | None,
    train_data: Mapping[str, torch.Tensor],
    val_data: Mapping[str, torch.Tensor],
    *,
    method: str = "continuation",
    config: Any = None,
    train_args: DistillConfig | None = None,
    teacher_logits: torch.Tensor | None = None,
    cache_path: str | Path | None = None,
    ta: nn.Module | None = None,
    out_dir: str | Path | None = None,
    hooks: Sequence[Hook] = (),
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> DistillResult:
    """Train ``student`` from ``teacher`` on ``train_data`` with ``method``; select on ``val_data``.

    Args:
        student / teacher: classifiers returning ``(B, K)`` logits (tensor, tuple or
            ``.logits``); the teacher is put in eval mode with ``requires_grad=False`` and
            never changes. ``teacher`` may be ``None`` for ``"finetune"`` or when
            ``teacher_logits`` is given.
        method: ``"continuation"``, ``"annealing"``, ``"kd"``, ``"takd"`` (needs ``ta``,
            an assistant trained first by KD) or ``"finetune"``.
        config: the method's config (``ContinuationKDConfig`` ...); defaults per method.
        train_args: the optimisation (:class:`DistillConfig`).
        teacher_logits: ``(N, K)`` teacher logits of ``train_data`` in row order (e.g. a
            noisy teacher); else computed once when ``train_args.cache_teacher`` (written to
            ``cache_path`` if given, and reused when it holds this dataset), else per step.
        out_dir: checkpoint every epoch there and resume from it (``papershelf.train.fit``).
        hooks: extra ``papershelf.train`` hooks.

    Raises:
        UserError: bad data, labels out of range, teacher/student label counts differ,
            method/config mismatch, a cache computed for another dataset.
    """
    args = train_args or DistillConfig()
    if method == "takd":
        return _takd(student, teacher, train_data, val_data, config, args, ta, out_dir, hooks)
    loss = make_loss(method, config)
    n_epochs = getattr(loss, "n_epochs", None)
    if n_epochs is not None and n_epochs != args.epochs:
        raise UserError(
            f"epochs: the {method} schedule has n_epochs = {n_epochs}, the run {args.epochs}; "
            "make them equal"
        )
    regression = getattr(loss.config, "task", "classification") == "regression"
    k = num_labels_of(student, train_data)
    n = _check_data("train", train_data, k, regression)
    _check_data("val", val_data, k, regression)
    uses_teacher = method != "finetune"
    if uses_teacher and teacher is None and teacher_logits is None:
        raise UserError(f"teacher: method {method!r} needs a teacher or teacher_logits")
    if teacher is not None and uses_teacher:
        _check_label_maps(student, teacher)
        _prepare_teacher(teacher)
    cached = teacher_logits
    if uses_teacher and cached is None and args.cache_teacher:
        cached = cached_teacher_logits(teacher, dict(train_data), cache_path)
    if uses_teacher:
        k_t = cached.shape[-1] if cached is not None else num_labels_of(teacher, train_data)
        if k_t != k:
            raise UserError(
                f"teacher: has {k_t} labels, the student {k}; they must have the same label count"
            )
    if cached is not None and tuple(cached.shape) != (n, k):
        raise UserError(
            f"teacher_logits: must have shape ({n}, {k}) for this data, got {tuple(cached.shape)}"
        )
    spe = n // args.batch_size
    if spe == 0:
        raise UserError(f"batch_size: {args.batch_size} is larger than the dataset ({n} examples)")
    data = {**train_data, "index": torch.arange(n)}
    out = Path(out_dir) if out_dir is not None else None
    tracker = _BestTracker(args.metric, spe, out)
    epoch_hook = EpochHook(loss, spe, tracker)

    def loss_fn(model: nn.Module, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        logits = forward_logits(model, batch)
        target = None
        if loss.needs_teacher:
            if cached is not None:
                target = cached[batch["index"].cpu()].to(logits.device)
            else:
                with torch.no_grad():
                    target = forward_logits(teacher, batch)
        return loss(logits, batch["labels"], target)

    def val_metrics(model: nn.Module) -> dict[str, float]:
        result = evaluate(model, val_data, args.metric)
        if on_epoch is not None:
            on_epoch(loss.epoch, result)
        return result

    tcfg = TrainConfig(
        max_steps=args.epochs * spe,
        lr=args.lr,
        batch_size=args.batch_size,
        weight_decay=args.weight_decay,
        max_grad_norm=args.max_grad_norm,
        optimizer=args.optimizer,
        eval_every=spe,
        shuffle=args.shuffle,
        seed=args.seed,
        progress=args.progress,
        checkpoint_every=spe if out is not None else 0,
        out_dir=out,
    )
    runner = fit if out is not None else train
    all_hooks = [epoch_hook, tracker, *hooks]
    try:
        state = runner(student, data, loss_fn, tcfg, hooks=all_hooks, evaluate=val_metrics)
    except TrainingDiverged as exc:
        raise TrainingDiverged(f"epoch {loss.epoch}: {exc}") from None
    model = _unwrap(state.model)
    last_state = {k2: v.detach().clone() for k2, v in model.state_dict().items()}
    history = _history(tracker.evals, state.losses, spe, loss, args.metric)
    best_state = tracker.best_state if tracker.best_state is not None else last_state
    if args.select == "best":
        model.load_state_dict(best_state)
    return DistillResult(
        student=model,
        best_state=best_state,
        last_state=last_state,
        best_epoch=tracker.best_epoch,
        history=history,
        metrics={
            "best_val": tracker.best_value,
            "last_val": history[-1][args.metric] if history else float("nan"),
            "best_epoch": tracker.best_epoch,
            "selected": args.select,
        },
    )


def _history(
    evals: list[dict], all_losses: list[float], spe: int, loss: DistillLoss, metric: str
) -> list[dict]:
    rows = []
    for ev in evals:
        epoch = math.ceil(ev["step"] / spe)
        losses = all_losses[(epoch - 1) * spe : epoch * spe]
        row = {"epoch": epoch, "train_loss": sum(losses) / max(len(losses), 1), metric: ev[metric]}
        if isinstance(loss, ContinuationKDLoss):
            s = loss.schedule.at(epoch)
            row.update(T=s.T, phi=s.phi, psi=s.psi, margin_factor=s.margin_factor)
        rows.append(row)
    return rows


def _takd(student, teacher, train_data, val_data, config, args, ta, out_dir, hooks):
    config = config if config is not None else TAKDConfig()
    if not isinstance(config, TAKDConfig):
        raise UserError(f"config: method 'takd' needs a TAKDConfig, got {type(config).__name__}")
    if ta is None:
        raise UserError("ta: method 'takd' needs a teacher-assistant model (ta=...)")
    sub = (lambda name: Path(out_dir) / name) if out_dir is not None else (lambda name: None)
    first = distill(
        ta,
        teacher,
        train_data,
        val_data,
        method="kd",
        config=config.ta_kd,
        train_args=args,
        out_dir=sub("assistant"),
        hooks=hooks,
    )
    assistant = copy.deepcopy(first.student)
    result = distill(
        student,
        assistant,
        train_data,
        val_data,
        method="kd",
        config=config.student_kd,
        train_args=args,
        out_dir=sub("student"),
        hooks=hooks,
    )
    result.metrics["assistant_best_val"] = first.metrics["best_val"]
    return result
