"""Continuation-KD (Jafari et al., Findings of EMNLP 2022, arXiv 2212.05998) and its
baselines (Annealing-KD, vanilla KD, TAKD, fine-tuning) for plain PyTorch and Hugging
Face classifiers.

    from continuation_kd import ContinuationKDConfig, DistillConfig, distill
    result = distill(student, teacher, train, val, method="continuation",
                     config=ContinuationKDConfig(t_max=10, n_epochs=30, psi="eq8", margin=1.0),
                     train_args=DistillConfig(epochs=30))

Names are imported lazily: ``import continuation_kd`` loads no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AnnealingKDConfig": "continuation_kd.config",
    "ContinuationKDConfig": "continuation_kd.config",
    "DistillConfig": "continuation_kd.config",
    "FineTuneConfig": "continuation_kd.config",
    "TAKDConfig": "continuation_kd.config",
    "VanillaKDConfig": "continuation_kd.config",
    "psi_function": "continuation_kd.config",
    "ContinuationSchedule": "continuation_kd.schedule",
    "ScheduleState": "continuation_kd.schedule",
    "phi_of": "continuation_kd.schedule",
    "annealing_loss": "continuation_kd.functional",
    "continuation_loss": "continuation_kd.functional",
    "hard_loss": "continuation_kd.functional",
    "AnnealingKDLoss": "continuation_kd.losses",
    "ContinuationKDLoss": "continuation_kd.losses",
    "FineTuneLoss": "continuation_kd.losses",
    "VanillaKDLoss": "continuation_kd.losses",
    "DistillResult": "continuation_kd.distillation",
    "distill": "continuation_kd.distillation",
    "make_loss": "continuation_kd.distillation",
    "ContinuationCallback": "continuation_kd.hf",
    "DistillationTrainer": "continuation_kd.hf",
    "hf_epoch_to_paper": "continuation_kd.hf",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'continuation_kd' has no attribute {name!r}")
