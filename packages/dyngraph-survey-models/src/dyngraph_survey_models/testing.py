"""Test helpers: reference formulas that check a module's behaviour (not one fast function,
which :mod:`dyngraph_survey_models.naive` covers).

- :func:`dense_gru`: one GConvGRU cell with K=1 Chebyshev filters and no edges, written with
  dense weights (``models.snapshot.GConvGRU.cell``).
- :func:`exact_edgebank`: EdgeBank's scores from the raw event history
  (``models.static.EdgeBank``).
- :func:`random_snapshots`: small seeded snapshot sequences for the snapshot encoders.
"""

from __future__ import annotations

import torch

__all__ = ["dense_gru", "exact_edgebank", "random_snapshots"]


def dense_gru(x, h, w_xz, w_hz, w_xr, w_hr, w_xh, w_hh, b_xz, b_hz, b_xr, b_hr, b_xh, b_hh):
    """One GRU step with the reset gate applied *before* the hidden product (GConvGRU's form):
    ``x (N, i), h (N, d)``, weights ``(i|d, d)``, biases ``(d,)`` -> ``h' (N, d)``."""
    z = torch.sigmoid(x @ w_xz + b_xz + h @ w_hz + b_hz)
    r = torch.sigmoid(x @ w_xr + b_xr + h @ w_hr + b_hr)
    h_tilde = torch.tanh(x @ w_xh + b_xh + (r * h) @ w_hh + b_hh)
    return z * h + (1 - z) * h_tilde


def exact_edgebank(
    history: list[tuple[int, int, float]],
    queries: list[tuple[int, int, float]],
    window: float | None = None,
) -> list[float]:
    """1.0 if (u, v) occurs in ``history`` at a time < the query's (and within ``window``)."""
    out = []
    for u, v, tq in queries:
        hit = any(
            a == u and b == v and th < tq and (window is None or tq - th <= window)
            for a, b, th in history
        )
        out.append(1.0 if hit else 0.0)
    return out


def random_snapshots(num_nodes: int = 12, num_snapshots: int = 4, seed: int = 0) -> list:
    """``num_snapshots`` PyG ``Data`` snapshots of 20 seeded random edges each (unit weights)."""
    from torch_geometric.data import Data

    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(num_snapshots):
        ei = torch.randint(0, num_nodes, (2, 20), generator=g)
        out.append(Data(edge_index=ei, edge_weight=torch.ones(20), num_nodes=num_nodes))
    return out
