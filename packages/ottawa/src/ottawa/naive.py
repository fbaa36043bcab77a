"""Reference solver used only as a test oracle: the one-side constrained OT fixed point, dense numpy.

``naive_one_side_ot`` takes the same parameters, in the same order, as
:func:`ottawa.functional.one_side_ot`, so a test calls both with one set of arguments.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["naive_one_side_ot"]


def naive_one_side_ot(
    C_aug: np.ndarray,
    reg: float,
    null_weight: float = 1.0,
    num_iter: int = 100_000,
    tol: float = 1e-12,
    solver: str = "naive",
) -> np.ndarray:
    """``K = exp(-C_aug / reg)``; repeat {rows scaled to 1/n; columns clipped to their caps}.

    Caps: 1/m for the m real columns, ``null_weight`` for the last (null) column.
    Stops when the largest row-sum error is below ``tol``. C_aug (n, m + 1) -> P (n, m + 1).
    ``solver`` is accepted for parity with ``one_side_ot`` and ignored: this loop is the
    reference every solver is checked against. The defaults iterate to the fixed point
    (``num_iter`` 100 000, ``tol`` 1e-12), tighter than ``one_side_ot``'s.
    """
    del solver
    C_aug = np.asarray(C_aug, dtype=np.float64)
    n, m1 = C_aug.shape
    a = np.full(n, 1.0 / n)
    b = np.array([1.0 / (m1 - 1)] * (m1 - 1) + [float(null_weight)])
    P = np.exp(-C_aug / reg)
    for _ in range(num_iter):
        for i in range(n):
            P[i, :] *= a[i] / P[i, :].sum()
        for j in range(m1):
            col = P[:, j].sum()
            if col > b[j]:
                P[:, j] *= b[j] / col
        if np.abs(P.sum(axis=1) - a).max() < tol:
            break
    return P


def __getattr__(name: str) -> Any:
    if name == "one_side_ot_numpy":  # the old name, kept for one release
        warnings.warn(
            "ottawa.naive.one_side_ot_numpy is renamed naive_one_side_ot",
            DeprecationWarning,
            stacklevel=2,
        )
        return naive_one_side_ot
    raise AttributeError(f"module 'ottawa.naive' has no attribute {name!r}")
