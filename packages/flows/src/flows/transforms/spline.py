"""Monotone rational-quadratic spline (Durkan et al. 2019, eqs. 4-8) with linear tails.

The spline maps ``[-B, B]`` onto itself through ``K`` bins and is the identity outside it
(boundary derivatives are exactly 1, so value and slope are continuous at ``+-B``).
Out-of-domain points are clamped into the domain *before* any formula is evaluated and
then replaced by the identity, so an all-tails batch stays finite.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from torch import Tensor

__all__ = ["rq_spline", "spline_params"]

MIN_BIN = 1e-3
MIN_DERIVATIVE = 1e-3


def spline_params(raw: Tensor, bins: int, bound: float) -> tuple[Tensor, Tensor, Tensor]:
    """Knots from unconstrained ``raw: (..., 3K-1)``.

    Returns ``xs, ys: (..., K+1)`` (knot positions, ``xs[0] = -B``, ``xs[K] = B``) and
    ``ds: (..., K+1)`` (knot derivatives, ``ds[0] = ds[K] = 1``).
    """
    w, h, d = raw[..., :bins], raw[..., bins : 2 * bins], raw[..., 2 * bins :]
    xs = _knots(w, bins, bound)
    ys = _knots(h, bins, bound)
    ones = torch.ones_like(d[..., :1])
    ds = torch.cat([ones, F.softplus(d) + MIN_DERIVATIVE, ones], dim=-1)
    return xs, ys, ds


def _knots(raw: Tensor, bins: int, bound: float) -> Tensor:
    widths = MIN_BIN + (1 - MIN_BIN * bins) * torch.softmax(raw, dim=-1)
    cum = torch.cumsum(widths, dim=-1)
    cum = torch.cat([torch.zeros_like(cum[..., :1]), cum], dim=-1)
    knots = 2 * bound * cum - bound
    # exact end points, so the identity tails join without a gap
    return torch.cat(
        [
            torch.full_like(knots[..., :1], -bound),
            knots[..., 1:-1],
            torch.full_like(knots[..., :1], bound),
        ],
        dim=-1,
    )


def _gather(t: Tensor, idx: Tensor) -> Tensor:
    return torch.gather(t, -1, idx).squeeze(-1)


def rq_spline(
    x: Tensor,
    raw: Tensor,
    bins: int = 8,
    bound: float = 4.0,
    inverse: bool = False,
    tails: str = "linear",
) -> tuple[Tensor, Tensor]:
    """Apply the spline elementwise.

    Args:
        x: ``(...,)`` inputs.
        raw: ``(..., 3*bins - 1)`` unconstrained parameters (widths, heights, derivatives).
        inverse: evaluate the inverse map (solving the quadratic of eq. 6 with the stable root).
        tails: ``"linear"`` (identity outside ``[-B, B]``) or ``"none"`` (outside input raises).

    Returns:
        ``(y, ladj)`` both ``(...,)``, ``ladj = log|dy/dx|`` of the map applied.
    """
    inside = (x >= -bound) & (x <= bound)
    if tails == "none" and not bool(inside.all()):
        bad = x[~inside].flatten()[0].item()
        raise UserError(
            f"x: value {bad:.4g} is outside the spline domain [-{bound}, {bound}] "
            "and tails='none'; use tails='linear' or rescale the data"
        )
    xs, ys, ds = spline_params(raw, bins, bound)
    xc = x.clamp(-bound, bound)
    knots = ys if inverse else xs
    idx = torch.searchsorted(knots[..., 1:-1].contiguous(), xc.unsqueeze(-1), right=True)
    idx = idx.clamp(0, bins - 1)
    x0, x1 = _gather(xs, idx), _gather(xs, idx + 1)
    y0, y1 = _gather(ys, idx), _gather(ys, idx + 1)
    d0, d1 = _gather(ds, idx), _gather(ds, idx + 1)
    w, h = x1 - x0, y1 - y0
    s = h / w
    if not inverse:
        xi = ((xc - x0) / w).clamp(0, 1)
        om = xi * (1 - xi)
        den = s + (d1 + d0 - 2 * s) * om
        y = y0 + h * (s * xi**2 + d0 * om) / den
        deriv = s**2 * (d1 * xi**2 + 2 * s * om + d0 * (1 - xi) ** 2) / den**2
        ladj = torch.log(deriv)
    else:
        dy = xc - y0
        a = h * (s - d0) + dy * (d1 + d0 - 2 * s)
        b = h * d0 - dy * (d1 + d0 - 2 * s)
        c = -s * dy
        disc = (b**2 - 4 * a * c).clamp_min(0)
        xi = ((2 * c) / (-b - torch.sqrt(disc))).clamp(0, 1)
        om = xi * (1 - xi)
        den = s + (d1 + d0 - 2 * s) * om
        y = x0 + xi * w
        deriv = s**2 * (d1 * xi**2 + 2 * s * om + d0 * (1 - xi) ** 2) / den**2
        ladj = -torch.log(deriv)
    y = torch.where(inside, y, x)
    ladj = torch.where(inside, ladj, torch.zeros_like(ladj))
    return y, ladj
