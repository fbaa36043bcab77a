"""Knowledge-distillation pieces shared by the distillation packages (continuation-kd,
labo, swa-plm): the Hinton KD loss with its temperature, tau^2 factor and reduction as
explicit options, the ``logits_of`` adaptor, and teacher logits cached once per dataset.

    soft = kd_loss(student_logits, teacher_logits, temperature=4.0)        # tau^2 KL, batchmean
    loss = (1 - alpha) * F.cross_entropy(student_logits, labels) + alpha * soft

    logits = precompute_teacher_logits(teacher, {"x": x, "labels": y})    # (N, K), eval, no_grad
    logits = cached_teacher_logits(teacher, data, "cache/teacher.safetensors")  # computed once

Conventions (Hinton et al. 2015, "Distilling the knowledge in a neural network"):
``kd_loss = tau^2 * KL(softmax(z_T / tau) || softmax(z_S / tau))``, the KL summed over
classes; with ``scale_by_t2`` its gradient in ``z_S`` is ``tau * (softmax(z_S / tau) -
softmax(z_T / tau))`` per row, whatever ``tau``. ``reduction="batchmean"`` averages over
rows (every leading dimension: ``(B, K)`` and token logits ``(B, T, V)`` alike);
``"mean_elements"`` also divides by ``K`` as ``nn.KLDivLoss()``'s default ``"mean"`` does.

Importing this module imports no torch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papershelf.errors import UserError

if TYPE_CHECKING:
    import torch

__all__ = [
    "KD_REDUCTIONS",
    "cached_teacher_logits",
    "dataset_fingerprint",
    "forward_logits",
    "kd_loss",
    "load_teacher_logits",
    "logits_of",
    "model_inputs",
    "precompute_teacher_logits",
    "save_teacher_logits",
]

KD_REDUCTIONS = ("batchmean", "mean_elements", "sum", "none")
FINGERPRINT_KEY = "papershelf.dataset_fingerprint"
NON_INPUT_KEYS = ("labels", "label", "teacher_logits", "index")


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float,
    *,
    scale_by_t2: bool = True,
    reduction: str = "batchmean",
) -> torch.Tensor:
    """Hinton's soft-target loss ``tau^2 * KL(softmax(z_T/tau) || softmax(z_S/tau))``.

    Args:
        student_logits: ``(..., K)``, e.g. ``(B, K)`` or token logits ``(B, T, V)``.
        teacher_logits: the same shape; detached here (no gradient reaches the teacher).
        temperature: ``tau > 0`` (a softmax temperature: both logits are divided by it).
        scale_by_t2: multiply by ``tau^2`` (Hinton; default) so the gradient scale does not
            depend on ``tau``; ``False`` gives the bare KL (e.g. Continuation-KD's Eq. 1).
        reduction: ``"batchmean"`` (sum over classes, mean over rows: every leading dim),
            ``"mean_elements"`` (batchmean / K, like ``nn.KLDivLoss()``), ``"sum"``, or
            ``"none"`` (per row, shape ``(...)``, e.g. to mask padded tokens).

    Returns:
        A scalar, or ``(...)`` for ``reduction="none"``; always >= 0 and 0 iff the two
        logits differ by a constant per row.
    """
    import torch
    from torch.nn import functional as F

    _check_temperature(temperature)
    if reduction not in KD_REDUCTIONS:
        raise UserError(
            f"reduction: must be one of {', '.join(map(repr, KD_REDUCTIONS))}; got {reduction!r}"
        )
    if student_logits.shape != teacher_logits.shape:
        raise UserError(
            f"teacher_logits: shape {tuple(teacher_logits.shape)} differs from the student's "
            f"{tuple(student_logits.shape)} (teacher and student must have the same label count)"
        )
    log_p_s = F.log_softmax(student_logits / temperature, dim=-1)
    log_p_t = F.log_softmax(teacher_logits.detach().to(student_logits.dtype) / temperature, dim=-1)
    per_row = torch.sum(log_p_t.exp() * (log_p_t - log_p_s), dim=-1)
    if scale_by_t2:
        per_row = per_row * temperature**2
    if reduction == "none":
        return per_row
    if reduction == "sum":
        return per_row.sum()
    mean = per_row.mean()
    return mean / student_logits.shape[-1] if reduction == "mean_elements" else mean


def _check_temperature(temperature: float) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        raise UserError(f"temperature: must be a number > 0, got {temperature!r}")
    if not temperature > 0:
        raise UserError(f"temperature: must be > 0, got {temperature!r}")


def logits_of(output: Any) -> torch.Tensor:
    """The logits in a model's output: a tensor as it is, a Hugging Face ``ModelOutput``
    (or any object) with ``.logits``, a mapping with ``"logits"``, or a tuple/list's first
    item (``return_dict=False``). Shape as the model returns it, e.g. ``(B, K)``."""
    import torch

    if isinstance(output, torch.Tensor):
        return output
    logits = getattr(output, "logits", None)
    if logits is None and isinstance(output, Mapping):
        logits = output.get("logits")
    if logits is None and isinstance(output, tuple | list) and output:
        logits = output[0]
    if not isinstance(logits, torch.Tensor):
        raise UserError(
            "model: must return logits (a tensor, an output with .logits or a tuple whose first "
            f"item is the logits), got {type(output).__name__}"
        )
    return logits


def model_inputs(batch: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``(args, kwargs)`` to call a classifier on ``batch``.

    A mapping loses ``labels``, ``label``, ``teacher_logits`` and ``index``; one remaining
    tensor is passed positionally (``model(x)``), several as keywords
    (``model(input_ids=..., attention_mask=...)``). A tuple/list ``(x, y, ...)`` gives
    ``model(x)``; a tensor gives ``model(batch)``.
    """
    if isinstance(batch, Mapping):
        inputs = {k: v for k, v in batch.items() if k not in NON_INPUT_KEYS}
        if not inputs:
            raise UserError(f"batch: has no model inputs, only {sorted(batch)}")
        if len(inputs) == 1:
            return (next(iter(inputs.values())),), {}
        return (), inputs
    if isinstance(batch, tuple | list):
        return (batch[0],), {}
    return (batch,), {}


def forward_logits(model: Any, batch: Any) -> torch.Tensor:
    """``logits_of(model(*args, **kwargs))`` with :func:`model_inputs`; ``(B, K)``."""
    args, kwargs = model_inputs(batch)
    return logits_of(model(*args, **kwargs))


def dataset_fingerprint(data: Mapping[str, Any] | Sequence[Any] | Any) -> str:
    """A sha256 hex digest of a dataset's tensors (names, dtypes, shapes and bytes).

    ``data`` is a mapping of tensors/arrays (a split dict), a sequence of them, or one.
    Two datasets with the same fingerprint hold the same examples in the same order.
    """
    import numpy as np

    digest = hashlib.sha256()
    items = (
        sorted(data.items())
        if isinstance(data, Mapping)
        else list(enumerate(data))
        if isinstance(data, list | tuple)
        else [("data", data)]
    )
    for name, value in items:
        if hasattr(value, "detach"):
            value = value.detach().cpu().contiguous().numpy()
        array = np.ascontiguousarray(np.asarray(value))
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def precompute_teacher_logits(
    teacher: Any,
    data: Mapping[str, Any],
    *,
    batch_size: int = 256,
    forward: Callable[[Any, Any], torch.Tensor] | None = None,
) -> torch.Tensor:
    """The teacher's logits on every row of ``data``, in order: ``(N, K)``, float32, CPU.

    The teacher runs in ``eval()`` mode under ``no_grad`` (its mode is restored after).

    Args:
        data: a split dict of equal-length tensors (``labels`` and ``index`` are not inputs).
        forward: ``forward(model, batch) -> logits``; default :func:`forward_logits`.
    """
    import torch

    forward = forward or forward_logits
    n = _length(data)
    if n == 0:
        raise UserError("data: has no examples to compute teacher logits on")
    was_training = teacher.training
    teacher.eval()
    chunks = []
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                batch = {k: v[start : start + batch_size] for k, v in data.items()}
                chunks.append(forward(teacher, batch).detach().float().cpu())
    finally:
        teacher.train(was_training)
    return torch.cat(chunks)


def save_teacher_logits(path: str | Path, logits: torch.Tensor, fingerprint: str) -> Path:
    """Write ``logits`` ``(N, K)`` to a safetensors file, atomically, with the dataset's
    ``fingerprint`` in its metadata (so a cache for another dataset is refused)."""
    from safetensors.torch import save_file

    from papershelf.io import atomic_write

    tensor = logits.detach().to("cpu").contiguous().clone()
    metadata = {"format": "pt", FINGERPRINT_KEY: fingerprint}
    return atomic_write(
        path, lambda tmp: save_file({"teacher_logits": tensor}, str(tmp), metadata=metadata)
    )


def load_teacher_logits(path: str | Path, fingerprint: str | None = None) -> torch.Tensor:
    """Read logits written by :func:`save_teacher_logits`; ``(N, K)``.

    Raises:
        UserError: the file is missing or not a teacher-logit cache, or it was computed for
            a dataset with another fingerprint (one line naming both).
    """
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise UserError(f"teacher_cache: {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            if "teacher_logits" not in handle.keys():  # noqa: SIM118 (safe_open has no __contains__)
                raise UserError(f"teacher_cache: {path} holds no 'teacher_logits' tensor")
            logits = handle.get_tensor("teacher_logits")
    except (SafetensorError, OSError) as exc:
        raise UserError(f"teacher_cache: {path} is not a valid safetensors file ({exc})") from None
    stored = metadata.get(FINGERPRINT_KEY)
    if fingerprint is not None and stored != fingerprint:
        raise UserError(
            f"teacher_cache: {path} was computed for another dataset (fingerprint "
            f"{str(stored)[:12]}, this dataset {fingerprint[:12]}); delete it or give another path"
        )
    return logits


def cached_teacher_logits(
    teacher: Any,
    data: Mapping[str, Any],
    path: str | Path | None = None,
    *,
    batch_size: int = 256,
    forward: Callable[[Any, Any], torch.Tensor] | None = None,
) -> torch.Tensor:
    """The teacher's logits on ``data`` ``(N, K)``, computed once: read from ``path`` when
    it holds a cache of this dataset, else computed (:func:`precompute_teacher_logits`)
    and written there atomically. A cache of another dataset is refused, not overwritten.
    ``path=None`` computes without caching. Exact as long as the teacher is deterministic
    in eval mode and the inputs are not augmented."""
    fingerprint = dataset_fingerprint(data)
    if path is not None and Path(path).is_file():
        logits = load_teacher_logits(path, fingerprint)
        if len(logits) != _length(data):
            raise UserError(
                f"teacher_cache: {path} holds {len(logits)} rows for {_length(data)} examples"
            )
        return logits
    logits = precompute_teacher_logits(teacher, data, batch_size=batch_size, forward=forward)
    if path is not None:
        save_teacher_logits(path, logits, fingerprint)
    return logits


def _length(data: Mapping[str, Any]) -> int:
    if not isinstance(data, Mapping) or not data:
        raise UserError("data: must be a non-empty mapping of equal-length tensors")
    sizes = {k: len(v) for k, v in data.items()}
    if len(set(sizes.values())) != 1:
        raise UserError(f"data: the tensors must have equal lengths, got {sizes}")
    return next(iter(sizes.values()))
