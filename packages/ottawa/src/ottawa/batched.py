"""Batched one-side constrained OT: many OTTAWA plans at once (padded, masked, torch float64).

The reference per-pair solver is POT's ``ot.partial.entropic_partial_wasserstein`` (iterative
Bregman projections with Dykstra corrections, Benamou et al. 2015), which
:func:`ottawa.functional.one_side_ot` calls with ``solver="pot"``. Its three correction
matrices are rank one by construction (``q1`` is a row scaling, ``q2`` a column scaling, and
``q3`` cancels out of the plan), so the same iterates are ``P = K0 * x y^T`` with

    rows:   f = min(a / (r * x * (K0 y)), 1);    x <- x r f;   r <- 1 / f
    cols:   g = min(b / (c * y * (K0^T x)), 1);  y <- y c g;   c <- 1 / g
    total:  x <- x * mass / sum(P)

where ``K0 = exp(-C_aug / reg) * mass / sum(exp(-C_aug / reg))``, ``a_i = 1/n``, ``b = (1/m, ...,
1/m, null_weight)`` and ``mass = sum(a)``. Each iteration costs two matrix-vector products
instead of a dozen full-matrix passes. The stopping rule is POT's, per pair: the Frobenius norm
of the plan's change over one iteration, checked every 10th iteration (0, 10, 20, ...), stops a
pair when it is <= ``tol``; converged pairs leave the batch. Plans agree with POT's up to
round-off (tested at 1e-6 on every pair; typically ~1e-15).

Shapes: a batch of ``B`` problems padded to ``(N, M1)``; padded entries of ``K0`` are 0 and
padded rows/columns keep unit scalings, so they never change a real sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["BatchSolution", "batched_one_side_ot", "resolve_device"]

#: Padded float64 elements per chunk (2 MB per (B, N, M1) tensor: small chunks pad less).
CHUNK_ELEMENTS = 1 << 18


@dataclass
class BatchSolution:
    """Plans of a batch of problems, in input order.

    Attributes:
        plans: list of (n_k, m_k + 1) float64 arrays.
        iterations: (B,) int, Bregman iterations each problem ran (POT's count).
        converged: (B,) bool, whether the stop rule was met before ``num_iter``.
        errors: (B,) float, the last checked change norm of each problem.
    """

    plans: list[np.ndarray]
    iterations: np.ndarray
    converged: np.ndarray
    errors: np.ndarray


def resolve_device(device: str | None) -> str:
    """``"auto"``/``None`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; others unchanged."""
    if device in (None, "auto"):
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def batched_one_side_ot(
    C_augs: Sequence[np.ndarray],
    reg: float,
    null_weight: float = 1.0,
    num_iter: int = 2000,
    tol: float = 1e-6,
    device: str | None = "cpu",
    chunk_elements: int = CHUNK_ELEMENTS,
) -> BatchSolution:
    """Solve ``min <P, C_aug> + reg * sum P log P`` s.t. ``P 1 = a``, ``P^T 1 <= b``,
    ``1^T P 1 = sum(a)`` for every ``C_aug`` (n_k, m_k + 1) of ``C_augs`` (null column last),
    with the iterates of ``ot.partial.entropic_partial_wasserstein`` (method "sinkhorn").

    Problems are sorted by size and cut into chunks of at most ``chunk_elements`` padded
    entries, so that padding stays small. ``device``: torch device ("cpu", "cuda", "auto").
    On a busy CPU, one torch thread is often faster than several (each operation is small);
    ``ottawa bench`` runs on one (``Paper(bench_threads=1)``).
    """
    import torch

    if not np.isfinite(reg) or reg <= 0:
        raise ValueError(f"reg: must be a finite number > 0, got {reg!r}")
    arrays = [np.asarray(C, dtype=np.float64) for C in C_augs]
    for k, C in enumerate(arrays):
        if C.ndim != 2 or C.shape[0] < 1 or C.shape[1] < 2:
            raise ValueError(f"C_augs[{k}]: expected shape (n >= 1, m + 1 >= 2), got {C.shape}")
    dev = torch.device(resolve_device(device))
    return _solve_all(arrays, reg, null_weight, num_iter, tol, dev, chunk_elements)


def _solve_all(arrays, reg, null_weight, num_iter, tol, dev, chunk_elements) -> BatchSolution:
    B = len(arrays)
    plans: list[np.ndarray | None] = [None] * B
    iters = np.zeros(B, dtype=np.int64)
    conv = np.zeros(B, dtype=bool)
    errs = np.zeros(B, dtype=np.float64)
    order = sorted(range(B), key=lambda k: (arrays[k].shape[0], arrays[k].shape[1]))
    start = 0
    while start < B:
        stop, m_max = start + 1, arrays[order[start]].shape[1]
        while stop < B:
            n_max = arrays[order[stop]].shape[0]  # sorted by n
            m_next = max(m_max, arrays[order[stop]].shape[1])
            if (stop + 1 - start) * n_max * m_next > chunk_elements:
                break
            stop, m_max = stop + 1, m_next
        idx = order[start:stop]
        out = _solve_chunk([arrays[k] for k in idx], reg, null_weight, num_iter, tol, dev)
        for k, (P, it, ok, err) in zip(idx, zip(*out, strict=True), strict=True):
            plans[k], iters[k], conv[k], errs[k] = P, it, ok, err
        start = stop
    return BatchSolution(plans, iters, conv, errs)  # type: ignore[arg-type]


def _solve_chunk(arrays, reg, null_weight, num_iter, tol, dev):
    import torch

    f64 = torch.float64
    B = len(arrays)
    sizes = [C.shape for C in arrays]
    N = max(s[0] for s in sizes)
    M1 = max(s[1] for s in sizes)
    C = np.zeros((B, N, M1))
    mask = np.zeros((B, N, M1), dtype=bool)
    a = np.ones((B, N))
    b = np.ones((B, M1))
    mass = np.zeros(B)
    for k, (Ck, (n, m1)) in enumerate(zip(arrays, sizes, strict=True)):
        C[k, :n, :m1] = Ck
        mask[k, :n, :m1] = True
        a_k = np.full(n, 1.0 / n)
        a[k, :n] = a_k
        b[k, : m1 - 1] = 1.0 / (m1 - 1)
        b[k, m1 - 1] = float(null_weight)
        mass[k] = float(a_k.sum())  # the same float as POT's m=float(a.sum())
    Ct = torch.as_tensor(C, dtype=f64, device=dev)
    mk = torch.as_tensor(mask, device=dev)
    K0 = torch.where(mk, torch.exp(Ct / -reg), torch.zeros((), dtype=f64, device=dev))
    mass_t = torch.as_tensor(mass, dtype=f64, device=dev)
    K0 = K0 * (mass_t / K0.sum(dim=(1, 2)))[:, None, None]
    a_t = torch.as_tensor(a, dtype=f64, device=dev)
    b_t = torch.as_tensor(b, dtype=f64, device=dev)
    x = torch.ones((B, N), dtype=f64, device=dev)
    y = torch.ones((B, M1), dtype=f64, device=dev)
    r = torch.ones_like(x)
    c = torch.ones_like(y)

    plans: list[np.ndarray | None] = [None] * B
    iters = np.zeros(B, dtype=np.int64)
    conv = np.zeros(B, dtype=bool)
    errs = np.full(B, np.inf)
    active = np.arange(B)
    # state of the active problems only; sliced as problems finish
    st = {
        "K0": K0,
        "K0T": K0.transpose(1, 2).contiguous(),
        "x": x,
        "y": y,
        "r": r,
        "c": c,
        "a": a_t,
        "b": b_t,
        "m": mass_t,
        "e": torch.full((B,), float("inf"), dtype=f64, device=dev),
    }

    def finish(local: np.ndarray, cpt: int, ok: np.ndarray, err: np.ndarray) -> None:
        if len(local) == 0:
            return
        sel = torch.as_tensor(local, device=dev)
        P = (st["K0"][sel] * st["x"][sel][:, :, None] * st["y"][sel][:, None, :]).cpu().numpy()
        for j, loc in enumerate(local):
            k = int(active[loc])
            n, m1 = sizes[k]
            plans[k] = P[j, :n, :m1].copy()
            iters[k], conv[k], errs[k] = cpt, bool(ok[j]), float(err[j])

    cpt = 0
    while len(active) and cpt < num_iter:
        check = cpt % 10 == 0
        K0a, xa, ya = st["K0"], st["x"], st["y"]
        # both products as (1, k) @ (k, l) row-vector products: the fast layout on CPU
        if check:
            x_prev, y_prev = xa, ya
        # rows: scale down to a (POT: diag(min(a / rowsum(K * q1), 1)) K)
        rs = st["r"] * xa * torch.bmm(ya[:, None, :], st["K0T"])[:, 0, :]
        # padded rows have rs = 0 and a = 1: a / rs = inf, clipped to 1 (no NaN, no mask needed)
        f = (st["a"] / rs).clamp_(max=1.0)
        xa = xa * st["r"] * f
        st["r"] = torch.reciprocal(f)
        # columns: clip to b (POT: K1 diag(min(b / colsum(K1 * q2), 1)))
        cs_raw = ya * torch.bmm(xa[:, None, :], K0a)[:, 0, :]
        cs = st["c"] * cs_raw
        g = (st["b"] / cs).clamp_(max=1.0)
        ya = ya * st["c"] * g
        st["c"] = torch.reciprocal(g)
        # total mass (POT's q3 cancels out of the plan)
        total = (cs * g).sum(dim=1)
        xa = xa * (st["m"] / total)[:, None]
        st["x"], st["y"] = xa, ya
        if check:
            # POT stops on NaN/inf at once; here a non-finite problem is caught at the next
            # check (its plan is refused by the caller either way)
            bad = ~(torch.isfinite(xa).all(dim=1) & torch.isfinite(ya).all(dim=1))
            diff = K0a * (x_prev[:, :, None] * y_prev[:, None, :] - xa[:, :, None] * ya[:, None, :])
            err = torch.linalg.vector_norm(diff, dim=(1, 2))
            st["e"] = err
            err_np = err.cpu().numpy()
            bad_np = bad.cpu().numpy()
            done = (err_np <= tol) | bad_np
            if done.any():
                loc = np.nonzero(done)[0]
                finish(loc, cpt + 1, ~bad_np[loc] & (err_np[loc] <= tol), err_np[loc])
                keep = torch.as_tensor(np.nonzero(~done)[0], device=dev)
                for key in st:
                    st[key] = st[key][keep]
                active = active[~done]
        cpt += 1
    if len(active):
        last = st["e"].cpu().numpy()
        finish(np.arange(len(active)), cpt, np.zeros(len(active), dtype=bool), last)
    return plans, iters, conv, errs
