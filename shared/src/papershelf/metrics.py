"""Evaluation metrics shared by the packages: ROC-AUC, average precision, accuracy, NLL.

Conventions: ``labels`` come FIRST everywhere (as in scikit-learn); inputs may be Python
lists, numpy arrays or torch tensors (on any device, any dtype); every function returns a
Python ``float``. Invalid input (mismatched lengths, one class only, non-finite scores)
raises :class:`papershelf.errors.UserError` with a one-line message.

Definitions (scikit-learn is the test oracle):

- ``roc_auc`` = P(score_pos > score_neg) + ½ P(score_pos == score_neg), computed as the
  Mann-Whitney U statistic over average ranks: ``(Σ rank_pos - n_pos (n_pos + 1) / 2) /
  (n_pos n_neg)``.
- ``average_precision`` = Σ_k (R_k - R_{k-1}) P_k over the distinct score thresholds taken
  from the highest down (tied scores form one threshold): scikit-learn's step-wise sum,
  not the interpolated area under the precision-recall curve.
- ``accuracy`` = the fraction of ``predictions`` equal to ``labels`` (class ids, or the
  argmax over the last dimension of scores).
- ``nll`` = mean cross-entropy of ``softmax(logits)`` at ``labels``, in nats, computed in
  float64.

Importing this module imports neither numpy nor torch; numpy is imported when a function
is called, and torch tensors are converted without importing torch here.
"""

from __future__ import annotations

from typing import Any

from papershelf.errors import UserError

__all__ = ["accuracy", "average_precision", "nll", "roc_auc"]


def _array(x: Any, field: str) -> Any:
    """``x`` as a numpy array (a torch tensor is detached, moved to CPU, floats as float64)."""
    import numpy as np

    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu()
        if x.is_floating_point():
            x = x.double()
        x = x.numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{field}: must be an array of numbers, got {type(x).__name__}") from exc


def _binary(labels: Any, scores: Any) -> tuple[Any, Any]:
    """``(labels as bool (n,), scores as float64 (n,))``, checked."""
    import numpy as np

    y, s = _array(labels, "labels"), _array(scores, "scores")
    if y.ndim != 1 or s.ndim != 1:
        raise UserError(
            f"labels, scores: must both be 1-D, got shapes {tuple(y.shape)} and {tuple(s.shape)}"
        )
    if len(y) != len(s):
        raise UserError(f"labels, scores: lengths differ ({len(y)} vs {len(s)})")
    if y.dtype != bool:
        if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
            values = sorted({v.item() if hasattr(v, "item") else v for v in np.unique(y)})[:5]
            raise UserError(f"labels: must be 0/1 or bool, got values {values}")
        y = y == 1
    if s.dtype.kind not in "biuf":
        raise UserError(f"scores: must be numbers, got dtype {s.dtype}")
    s = s.astype(np.float64)
    if not np.isfinite(s).all():
        raise UserError("scores: must be finite, got NaN or inf")
    return y, s


def roc_auc(labels: Any, scores: Any) -> float:
    """Area under the ROC curve of ``scores`` for binary ``labels``; ties count ½.

    Args:
        labels: ``(n,)`` 0/1 or bool; 1/True is the positive class. Both classes must occur.
        scores: ``(n,)`` finite real scores; higher means more likely positive.

    Returns:
        The AUC in [0, 1] as a float (0.5 for constant scores).

    Raises:
        UserError: shapes differ, labels not 0/1, a non-finite score, or only one class.
    """
    import numpy as np

    y, s = _binary(labels, scores)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        only = "positive (1)" if n_neg == 0 else "negative (0)"
        raise UserError(
            f"labels: ROC-AUC needs both classes, got only {only} labels ({len(y)} examples)"
        )
    # average (1-based) rank of every distinct score: ties share the mean of their ranks
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts).astype(np.float64)
    mid_ranks = ends - (counts - 1) / 2.0
    rank_sum = mid_ranks[inverse.reshape(-1)][y].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def average_precision(labels: Any, scores: Any) -> float:
    """Average precision of ``scores`` for binary ``labels`` (scikit-learn's definition).

    ``AP = Σ_k (R_k - R_{k-1}) P_k`` over the distinct thresholds of ``scores`` from the
    highest down; tied scores enter together at one threshold.

    Args:
        labels: ``(n,)`` 0/1 or bool; 1/True is the positive class. At least one positive.
        scores: ``(n,)`` finite real scores; higher means more likely positive.

    Returns:
        AP in [0, 1] as a float (1.0 when every label is positive).

    Raises:
        UserError: shapes differ, labels not 0/1, a non-finite score, or no positive label.
    """
    import numpy as np

    y, s = _binary(labels, scores)
    n_pos = int(y.sum())
    if n_pos == 0:
        raise UserError(
            f"labels: average precision needs at least one positive (1) label, "
            f"got only negative (0) labels ({len(y)} examples)"
        )
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.ones(len(s), dtype=bool)
    last[:-1] = s[1:] != s[:-1]  # the last index of each group of tied scores
    tp = np.cumsum(y, dtype=np.float64)[last]
    predicted = np.arange(1, len(s) + 1, dtype=np.float64)[last]
    precision, recall = tp / predicted, tp / n_pos
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def accuracy(labels: Any, predictions: Any) -> float:
    """Fraction of examples whose prediction equals the label.

    Args:
        labels: ``(n,)`` integer class ids (or bool).
        predictions: ``(n,)`` predicted class ids, or ``(n, C)`` logits / probabilities /
            scores whose argmax over the last dimension is the predicted class (the first
            maximum wins ties, as in numpy and torch).

    Returns:
        The accuracy in [0, 1] as a float.

    Raises:
        UserError: empty input, lengths differ, or 1-D predictions that are not whole numbers.
    """
    import numpy as np

    y, p = _array(labels, "labels"), _array(predictions, "predictions")
    if y.ndim != 1:
        raise UserError(f"labels: must be 1-D (n,), got shape {tuple(y.shape)}")
    if p.ndim == 2:
        p = p.argmax(axis=-1)
    elif p.ndim != 1:
        raise UserError(
            f"predictions: must be (n,) class ids or (n, C) scores, got shape {tuple(p.shape)}"
        )
    elif p.dtype.kind == "f" and not np.all(p == np.round(p)):
        raise UserError(
            "predictions: 1-D predictions must be class ids; pass (n, C) scores to take the argmax"
        )
    if len(y) != len(p):
        raise UserError(f"labels, predictions: lengths differ ({len(y)} vs {len(p)})")
    if len(y) == 0:
        raise UserError("labels: accuracy needs at least one example, got none")
    return float(np.mean(p == y))


def nll(logits: Any, labels: Any) -> float:
    """Mean negative log-likelihood (cross-entropy, nats) of ``labels`` under ``softmax(logits)``.

    Equals ``torch.nn.functional.cross_entropy(logits, labels)`` and scikit-learn's
    ``log_loss(labels, softmax(logits), labels=range(C))``; computed in float64 with a
    stable log-sum-exp.

    Args:
        logits: ``(n, C)`` unnormalised class scores (finite).
        labels: ``(n,)`` integer class ids in ``[0, C)``.

    Returns:
        The mean NLL as a float.

    Raises:
        UserError: wrong shapes, empty input, non-finite logits or labels outside ``[0, C)``.
    """
    import numpy as np

    z, y = _array(logits, "logits"), _array(labels, "labels")
    if z.ndim != 2:
        raise UserError(f"logits: must be 2-D (n, C), got shape {tuple(z.shape)}")
    if y.ndim != 1 or len(y) != len(z):
        raise UserError(f"labels: must be 1-D of length {len(z)}, got shape {tuple(y.shape)}")
    if len(y) == 0:
        raise UserError("labels: NLL needs at least one example, got none")
    if y.dtype.kind not in "biu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise UserError(f"labels: must be integer class ids, got dtype {y.dtype}")
    y = y.astype(np.int64)
    n_classes = z.shape[1]
    if y.min() < 0 or y.max() >= n_classes:
        raise UserError(f"labels: must be class ids in [0, {n_classes}), got {y.min()}..{y.max()}")
    z = z.astype(np.float64)
    if not np.isfinite(z).all():
        raise UserError("logits: must be finite, got NaN or inf")
    top = z.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return float(np.mean(log_norm - z[np.arange(len(y)), y]))
