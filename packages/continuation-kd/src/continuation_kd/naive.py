"""Loop-by-loop references for the losses in ``functional`` (float64 oracles for tests).

Each ``naive_<op>`` has the same parameters, in the same order, as ``functional.<op>``
and computes it one example and one class at a time, as Eq. 2–4 are printed.
"""

from __future__ import annotations

import math

__all__ = ["naive_annealing_loss", "naive_continuation_loss"]


def _ce(row: list[float], label: int) -> float:
    top = max(row)
    log_z = top + math.log(sum(math.exp(v - top) for v in row))
    return log_z - row[label]


def naive_continuation_loss(
    student_logits,
    teacher_logits,
    labels,
    *,
    phi,
    psi,
    margin,
    margin_factor=None,
    distance="sum",
    task="classification",
):
    """Eq. 3–4 with Python floats: per example ψ·CE + (1 − ψ)·max(0, d − m·f), then the mean."""
    s = [[float(v) for v in row] for row in student_logits.tolist()]
    y = labels.tolist()
    factor = phi if margin_factor is None else margin_factor
    total_ce, total_cnt = 0.0, 0.0
    for b, row in enumerate(s):
        if task == "regression":
            total_ce += (row[0] - float(y[b])) ** 2
        else:
            total_ce += _ce(row, int(y[b]))
        if psi < 1.0:
            t = [float(v) for v in teacher_logits[b].tolist()]
            d = sum((row[k] - phi * t[k]) ** 2 for k in range(len(row)))
            if distance == "mean":
                d /= len(row)
            total_cnt += max(0.0, d - margin * factor)
    n = len(s)
    return psi * total_ce / n + (1.0 - psi) * total_cnt / n


def naive_annealing_loss(student_logits, teacher_logits, phi, distance="mean"):
    """Eq. 2 with Python floats: the mean over examples of ``‖z_S − φ z_T‖²`` (/K for "mean")."""
    s, t = student_logits.tolist(), teacher_logits.tolist()
    total = 0.0
    for row, trow in zip(s, t, strict=True):
        d = sum((a - phi * b) ** 2 for a, b in zip(row, trow, strict=True))
        total += d / len(row) if distance == "mean" else d
    return total / len(s)
