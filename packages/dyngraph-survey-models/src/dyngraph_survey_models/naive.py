"""Slow, obviously-correct references used only as test oracles."""

from __future__ import annotations

import torch

__all__ = ["brute_force_ranks", "dense_gru", "exact_edgebank"]


def dense_gru(x, h, w_xz, w_hz, w_xr, w_hr, w_xh, w_hh, b_xz, b_hz, b_xr, b_hr, b_xh, b_hh):
    """One GRU step with the reset gate applied *before* the hidden product (GConvGRU's form):
    ``x (N, i), h (N, d)``, weights ``(i|d, d)``, biases ``(d,)`` -> ``h' (N, d)``."""
    z = torch.sigmoid(x @ w_xz + b_xz + h @ w_hz + b_hz)
    r = torch.sigmoid(x @ w_xr + b_xr + h @ w_hr + b_hr)
    h_tilde = torch.tanh(x @ w_xh + b_xh + (r * h) @ w_hh + b_hh)
    return z * h + (1 - z) * h_tilde


def brute_force_ranks(pos: list[float], neg: list[list[float]]) -> list[float]:
    """Rank of each positive among its negatives by counting, ties counted ½."""
    out = []
    for p, row in zip(pos, neg, strict=True):
        r = 1.0
        for n in row:
            if n > p:
                r += 1
            elif n == p:
                r += 0.5
        out.append(r)
    return out


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
