"""The maths of OTTAWA on plain arrays: cost, adaptive null, one-side constrained OT, alignment.

Shapes: ``u`` (n, d) row-side word vectors, ``v`` (m, d) column-side word vectors,
``C`` (n, m) real costs, ``C_aug`` (n, m + 1) with the null column last, plans ``P`` (n, m + 1).
All arithmetic is float64.
"""

from __future__ import annotations

import numpy as np

from ottawa.config import MIN_PLAIN_REG, NULL_MODES, SOLVERS

__all__ = [
    "augment_and_scale",
    "balanced_ot",
    "check_plan",
    "cosine_cost",
    "equidistant_distance",
    "mutual_argmax",
    "null_cost",
    "one_side_ot",
]


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def cosine_cost(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``C_ij = (1 - cos(u_i, v_j)) / 2`` in [0, 1]; u (n, d), v (m, d) -> (n, m)."""
    return np.clip((1.0 - _unit(u) @ _unit(v).T) / 2.0, 0.0, 1.0)


def equidistant_distance(u: np.ndarray) -> float:
    """``d_eq = (1 - 1/||c||) / 2`` for the minimum-norm ``c`` with ``V c = 1`` (V = unit rows of u).

    ``c / ||c||`` is the unit vector with the same cosine ``1/||c||`` to every row vector
    (exact when V has full row rank; least squares otherwise). u (n, d) -> float in [0, 0.5).
    """
    V = _unit(u)
    c = V.T @ (np.linalg.pinv(V @ V.T) @ np.ones(V.shape[0]))
    norm = float(np.linalg.norm(c))
    if not np.isfinite(norm) or norm < 1.0:  # only round-off can push ||c|| below 1
        norm = 1.0
    return (1.0 - 1.0 / norm) / 2.0


def null_cost(C: np.ndarray, u: np.ndarray, mode: str | float = "adaptive") -> float:
    """The cost of sending a row word to null, from the *row side* ``u`` of the plan.

    ``"adaptive"`` = ``max(median(C), d_eq(u))``; ``"median"``; ``"deq"``; or a fixed float.
    C (n, m) real costs before augmentation, u (n, d).
    """
    if not isinstance(mode, str):
        return float(mode)
    if mode not in NULL_MODES:
        raise ValueError(
            f"null_cost: {mode!r} is not allowed; choose from {', '.join(NULL_MODES)} or a float"
        )
    if mode == "median":
        return float(np.median(C))
    if mode == "deq":
        return equidistant_distance(u)
    return max(float(np.median(C)), equidistant_distance(u))


def augment_and_scale(C: np.ndarray, c_null: float, scale: str = "minmax") -> np.ndarray:
    """``[C | c_null 1]`` (n, m + 1), then ``(x - min + 1e-10) / (max - min + 1e-10)`` if minmax."""
    C = np.asarray(C, dtype=np.float64)
    C_aug = np.concatenate([C, np.full((C.shape[0], 1), float(c_null))], axis=1)
    if scale == "minmax":
        lo, hi = C_aug.min(), C_aug.max()
        C_aug = (C_aug - lo + 1e-10) / (hi - lo + 1e-10)
    elif scale != "none":
        raise ValueError(f"scale: {scale!r} is not allowed; choose from minmax, none")
    return C_aug


def _marginals(n: int, m: int, null_weight: float) -> tuple[np.ndarray, np.ndarray]:
    a = np.full(n, 1.0 / n)
    b = np.concatenate([np.full(m, 1.0 / m), [float(null_weight)]])
    return a, b


def one_side_ot(
    C_aug: np.ndarray,
    reg: float,
    null_weight: float = 1.0,
    num_iter: int = 2000,
    tol: float = 1e-6,
    solver: str = "pot",
) -> np.ndarray:
    """One-side constrained entropic OT with a null column (the OTTAWA plan).

    Solves ``min <P, C_aug> + reg * sum P log P`` s.t. ``P 1 = a`` (a_i = 1/n),
    ``P^T 1 <= b`` (b_j = 1/m for real columns, ``null_weight`` for the last) and total mass
    ``sum(a)``. C_aug (n, m + 1) -> P (n, m + 1) float64.

    Solvers: "batched" runs POT's iteration in torch (:mod:`ottawa.batched`, same iterates;
    many plans at once through ``batched_one_side_ot``); "pot" / "pot-log" call ``ot.partial.entropic_partial_wasserstein`` (method
    "sinkhorn" / "sinkhorn_log"); "numpy" runs POT's same iteration vectorised (same iterates,
    15-45% less time in ``ottawa bench``); "torch" / "torch-log" run the equivalent scaling fixed point
    (rows scaled to ``a``, columns clipped to ``b``) in float64 torch, plain or in the log domain.
    """
    C_aug = np.asarray(C_aug, dtype=np.float64)
    if C_aug.ndim != 2 or C_aug.shape[0] < 1 or C_aug.shape[1] < 2:
        raise ValueError(f"C_aug: expected shape (n >= 1, m + 1 >= 2), got {C_aug.shape}")
    if not np.isfinite(reg) or reg <= 0:
        raise ValueError(f"reg: must be a finite number > 0, got {reg!r}")
    if solver not in SOLVERS:
        raise ValueError(f"solver: {solver!r} is not allowed; choose from {', '.join(SOLVERS)}")
    if solver in ("pot", "numpy", "batched") and reg < MIN_PLAIN_REG:
        solver = "pot-log"
    n, m1 = C_aug.shape
    a, b = _marginals(n, m1 - 1, null_weight)
    if solver == "numpy":
        P = _bregman_numpy(C_aug, a, b, reg, float(a.sum()), int(num_iter), float(tol))
    elif solver == "batched":
        from ottawa.batched import batched_one_side_ot

        P = batched_one_side_ot([C_aug], reg, null_weight, int(num_iter), float(tol)).plans[0]
    elif solver.startswith("pot"):
        from ot.partial import entropic_partial_wasserstein

        P = entropic_partial_wasserstein(
            a,
            b,
            C_aug,
            reg=reg,
            m=float(a.sum()),  # never the literal 1.0: sum(1/n) may round below 1 (infeasible)
            method="sinkhorn_log" if solver == "pot-log" else "sinkhorn",
            numItermax=int(num_iter),
            stopThr=float(tol),
        )
        P = np.asarray(P, dtype=np.float64)
    else:
        P = _torch_scaling(C_aug, a, b, reg, num_iter, tol, log=solver == "torch-log")
    check_plan(P, reg)
    return P


def check_plan(P: np.ndarray, reg: float) -> None:
    """Refuse a plan with NaN/inf (one line: what to change)."""
    if not np.all(np.isfinite(P)):
        raise ValueError(
            f"the transport plan has NaN/inf at reg={reg}; use a larger reg or solver='torch-log'"
        )


def _bregman_numpy(
    M: np.ndarray, a: np.ndarray, b: np.ndarray, reg: float, mass: float, num_iter: int, tol: float
) -> np.ndarray:
    """The iterative Bregman projections of ``ot.partial.entropic_partial_wasserstein``
    (Benamou et al., 2015: rows <= a, columns <= b, total = mass, with Dykstra corrections),
    step for step as POT 0.9 runs them, with broadcasting instead of diagonal matrix products.
    Same iterates and stopping rule (norm of the change, checked every 10 iterations)."""
    K = np.exp(-M / reg)
    K *= mass / K.sum()
    q1 = np.ones_like(K)
    q2 = np.ones_like(K)
    q3 = np.ones_like(K)
    err, it = 1.0, 0
    while err > tol and it < num_iter:
        K_prev = K
        K = K * q1
        K1 = K * np.minimum(a / K.sum(axis=1), 1.0)[:, None]
        q1 = q1 * K_prev / K1
        K1_prev = K1
        K1 = K1 * q2
        K2 = K1 * np.minimum(b / K1.sum(axis=0), 1.0)[None, :]
        q2 = q2 * K1_prev / K2
        K2_prev = K2
        K2 = K2 * q3
        K = K2 * (mass / K2.sum())
        q3 = q3 * K2_prev / K
        if not np.isfinite(K).all():
            break
        if it % 10 == 0:
            err = float(np.linalg.norm(K_prev - K))
        it += 1
    return K


def _torch_scaling(
    C_aug: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    reg: float,
    num_iter: int,
    tol: float,
    log: bool,
) -> np.ndarray:
    import torch

    C = torch.as_tensor(C_aug, dtype=torch.float64)
    ta = torch.as_tensor(a, dtype=torch.float64)
    tb = torch.as_tensor(b, dtype=torch.float64)
    if log:
        logK = -C / reg
        log_a, log_b = torch.log(ta), torch.log(tb)
        f = torch.zeros(C.shape[0], dtype=torch.float64)
        g = torch.zeros(C.shape[1], dtype=torch.float64)
        for _ in range(int(num_iter)):
            f = log_a - torch.logsumexp(logK + g[None, :], dim=1)
            col = torch.logsumexp(logK + f[:, None] + g[None, :], dim=0)
            g = g + torch.clamp(log_b - col, max=0.0)
            row = torch.logsumexp(logK + f[:, None] + g[None, :], dim=1).exp()
            if float((row - ta).abs().max()) < tol:
                break
        return (logK + f[:, None] + g[None, :]).exp().numpy()
    P = torch.exp(-C / reg)
    for _ in range(int(num_iter)):
        P = P * (ta / P.sum(1))[:, None]
        P = P * torch.clamp(tb / P.sum(0), max=1.0)[None, :]
        if float((P.sum(1) - ta).abs().max()) < tol:
            break
    return P.numpy()


def balanced_ot(C: np.ndarray, reg: float, num_iter: int = 2000, tol: float = 1e-6) -> np.ndarray:
    """Balanced entropic OT with uniform marginals (``ot.sinkhorn``), no null. C (n, m) -> (n, m)."""
    import ot

    C = np.asarray(C, dtype=np.float64)
    n, m = C.shape
    method = "sinkhorn" if reg >= MIN_PLAIN_REG else "sinkhorn_log"
    P = ot.sinkhorn(
        np.full(n, 1.0 / n),
        np.full(m, 1.0 / m),
        C,
        reg,
        method=method,
        numItermax=int(num_iter),
        stopThr=float(tol),
    )
    return np.asarray(P, dtype=np.float64)


def argmax_links(P: np.ndarray, null_last: bool = True) -> list[int | None]:
    """Per row, the argmax column, or ``None`` when the argmax is the null column. P (n, m[+1])."""
    best = np.asarray(P).argmax(axis=1)
    last = P.shape[1] - 1
    return [None if (null_last and j == last) else int(j) for j in best]


def mutual_argmax(
    P_fwd: np.ndarray, P_rev: np.ndarray, mode: str = "intersect"
) -> list[tuple[int, int]]:
    """Alignment pairs (source index, MT index) from the two plans.

    P_fwd (n, m + 1): rows = source words, columns = MT words + null.
    P_rev (m, n + 1): rows = MT words, columns = source words + null.
    ``mode``: "intersect" (mutual best matches; null excluded), "forward", "reverse", "union".
    """
    fwd = {(i, j) for i, j in enumerate(argmax_links(P_fwd)) if j is not None}
    rev = {(j, i) for i, j in enumerate(argmax_links(P_rev)) if j is not None}
    if mode == "intersect":
        pairs = fwd & rev
    elif mode == "forward":
        pairs = fwd
    elif mode == "reverse":
        pairs = rev
    elif mode == "union":
        pairs = fwd | rev
    else:
        raise ValueError(
            f"alignment: {mode!r} is not allowed; choose from intersect, forward, reverse, union"
        )
    return sorted(pairs)
