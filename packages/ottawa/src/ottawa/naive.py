"""Reference solver used only as a test oracle: the one-side constrained OT fixed point, dense numpy."""

from __future__ import annotations

import numpy as np

__all__ = ["one_side_ot_numpy"]


def one_side_ot_numpy(
    C_aug: np.ndarray,
    reg: float,
    null_weight: float = 1.0,
    num_iter: int = 100_000,
    tol: float = 1e-12,
) -> np.ndarray:
    """``K = exp(-C_aug / reg)``; repeat {rows scaled to 1/n; columns clipped to their caps}.

    Caps: 1/m for the m real columns, ``null_weight`` for the last (null) column.
    Stops when the largest row-sum error is below ``tol``. C_aug (n, m + 1) -> P (n, m + 1).
    """
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
