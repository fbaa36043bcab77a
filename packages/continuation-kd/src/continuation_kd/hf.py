"""The Hugging Face Trainer path: ``DistillationTrainer`` and ``ContinuationCallback``.

HF counts epochs from 0 as floats (``state.epoch`` is 0.0 at the start, 1.0 after the
first epoch, 1.5 half-way through the second); the paper counts 1-based integers. The
callback sets the loss's epoch to ``floor(state.epoch) + 1`` before every step, so a run
resumed mid-epoch recomputes the same schedule.

    loss = ContinuationKDLoss(ContinuationKDConfig(n_epochs=30))
    trainer = DistillationTrainer(model=student, teacher=teacher, distill_loss=loss,
                                  args=TrainingArguments(..., remove_unused_columns=False),
                                  train_dataset=ds)
    trainer.train()

Batches are dicts with ``labels`` (and ``index`` when ``teacher_logits`` are given:
``teacher_logits[index]`` replaces the teacher's forward). The teacher's forward is skipped
whenever ``distill_loss.needs_teacher`` is False (ψ = 1).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from papershelf.distill import forward_logits, logits_of, model_inputs
from papershelf.errors import UserError
from transformers import Trainer, TrainerCallback

from continuation_kd.losses import DistillLoss

__all__ = ["ContinuationCallback", "DistillationTrainer", "hf_epoch_to_paper"]


def hf_epoch_to_paper(epoch: float | None) -> int:
    """HF's 0-based float epoch (``state.epoch``) → the paper's 1-based integer epoch."""
    return math.floor((epoch or 0.0) + 1e-9) + 1


class ContinuationCallback(TrainerCallback):
    """Sets ``loss.set_epoch(floor(state.epoch) + 1)`` at every step begin (clamped to n)."""

    def __init__(self, loss: DistillLoss) -> None:
        self.loss = loss

    def _sync(self, state: Any) -> None:
        epoch = hf_epoch_to_paper(state.epoch)
        if self.loss.n_epochs is not None:
            epoch = min(epoch, self.loss.n_epochs)
        self.loss.set_epoch(epoch)

    def on_epoch_begin(self, args, state, control, **kwargs):
        self._sync(state)

    def on_step_begin(self, args, state, control, **kwargs):
        self._sync(state)


class DistillationTrainer(Trainer):
    """A ``transformers.Trainer`` whose loss is a distillation loss of this package.

    Args:
        teacher: the teacher (put in eval mode, ``requires_grad=False``, moved to the
            student's device); may be ``None`` with ``teacher_logits``.
        distill_loss: a ``DistillLoss`` (``ContinuationKDLoss``, ``AnnealingKDLoss`` ...).
        teacher_logits: ``(N, K)`` cached teacher logits indexed by the batch's ``index``.
        shuffle: ``False`` feeds the training set in order (e.g. to compare with another
            loop); default HF's random sampler.
        Other arguments as ``transformers.Trainer``; a ``ContinuationCallback`` is added.
    """

    def __init__(
        self,
        *args: Any,
        teacher: torch.nn.Module | None = None,
        distill_loss: DistillLoss,
        teacher_logits: torch.Tensor | None = None,
        shuffle: bool = True,
        **kwargs: Any,
    ) -> None:
        if teacher is None and teacher_logits is None and distill_loss.needs_teacher:
            raise UserError("teacher: DistillationTrainer needs a teacher or teacher_logits")
        callbacks = list(kwargs.pop("callbacks", None) or [])
        callbacks.append(ContinuationCallback(distill_loss))
        super().__init__(*args, callbacks=callbacks, **kwargs)
        self.teacher, self.distill_loss = teacher, distill_loss
        self.teacher_logits, self.shuffle = teacher_logits, shuffle
        if teacher is not None:
            teacher.eval()
            for p in teacher.parameters():
                p.requires_grad_(False)
            teacher.to(self.args.device)

    def _get_train_sampler(self, *args: Any, **kwargs: Any):
        if not self.shuffle:
            return torch.utils.data.SequentialSampler(self.train_dataset)
        return super()._get_train_sampler(*args, **kwargs)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """``distill_loss(student_logits (B, K), labels (B,), teacher_logits (B, K) | None)``."""
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        index = inputs.pop("index", None)
        call_args, call_kwargs = model_inputs(inputs)
        outputs = model(*call_args, **call_kwargs)
        logits = logits_of(outputs)
        target = None
        if self.distill_loss.needs_teacher:
            if self.teacher_logits is not None:
                if index is None:
                    raise UserError("index: cached teacher_logits need an 'index' column")
                target = self.teacher_logits[index.cpu()].to(logits.device)
            else:
                with torch.no_grad():
                    target = forward_logits(self.teacher, inputs)
        loss = self.distill_loss(logits, labels, target)
        return (loss, outputs) if return_outputs else loss
