"""RQ spline numerics: monotone, continuous at the knots, identity tails, stable inverse."""

from __future__ import annotations

import pytest
import torch
from flows.transforms.spline import MIN_DERIVATIVE, rq_spline, spline_params
from hypothesis import given, settings
from hypothesis import strategies as st
from papershelf.errors import UserError

K, B = 6, 3.0


def _raw(seed: int, scale: float = 2.0) -> torch.Tensor:
    return (
        torch.randn(3 * K - 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        * scale
    )


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 5.0))
def test_monotone_invertible_and_derivative_positive(seed, scale):
    raw = _raw(seed, scale)
    x = torch.linspace(-B - 1, B + 1, 801, dtype=torch.float64)
    y, ladj = rq_spline(x, raw.expand(len(x), -1), K, B)
    assert (torch.diff(y) > 0).all()
    assert torch.isfinite(ladj).all()  # derivative > 0 everywhere
    xs, ys, ds = spline_params(raw, K, B)
    assert (
        (ds >= MIN_DERIVATIVE).all() and (torch.diff(xs) > 0).all() and (torch.diff(ys) > 0).all()
    )
    x_back, ladj_inv = rq_spline(y, raw.expand(len(x), -1), K, B, inverse=True)
    torch.testing.assert_close(x_back, x, atol=1e-9, rtol=0)
    torch.testing.assert_close(ladj + ladj_inv, torch.zeros_like(ladj), atol=1e-7, rtol=0)


def test_value_and_derivative_continuous_at_knots_and_identity_outside():
    raw = _raw(0)
    xs, ys, ds = spline_params(raw, K, B)
    assert xs[0] == -B and xs[-1] == B and ds[0] == 1 and ds[-1] == 1
    eps = 1e-7
    for xk, yk, dk in zip(xs.tolist(), ys.tolist(), ds.tolist(), strict=True):
        pts = torch.tensor([xk - eps, xk, xk + eps], dtype=torch.float64)
        y, ladj = rq_spline(pts, raw.expand(3, -1), K, B)
        torch.testing.assert_close(y[1], torch.tensor(yk, dtype=torch.float64), atol=1e-12, rtol=0)
        assert abs(y[2] - y[0]) < 3 * eps * max(dk, 1) + 1e-12
        torch.testing.assert_close(
            ladj[1].exp(), torch.tensor(dk, dtype=torch.float64), atol=1e-9, rtol=1e-9
        )
        torch.testing.assert_close(
            ladj.exp(), torch.full((3,), dk, dtype=torch.float64), atol=0, rtol=1e-2
        )
    out = torch.tensor([-1e8, -B - 0.5, B + 0.5, 1e8], dtype=torch.float64)
    y, ladj = rq_spline(out, raw.expand(4, -1), K, B)
    assert torch.equal(y, out) and torch.equal(ladj, torch.zeros(4, dtype=torch.float64))


def test_all_tails_batch_is_finite_with_gradients():
    """nflows #23: every input outside the domain."""
    raw = _raw(1).expand(5, -1).clone().requires_grad_(True)
    x = torch.tensor([10.0, -10.0, 50.0, -1e6, 7.0], dtype=torch.float64, requires_grad=True)
    y, ladj = rq_spline(x, raw, K, B)
    (y.sum() + ladj.sum()).backward()
    assert torch.isfinite(raw.grad).all() and torch.isfinite(x.grad).all()


def test_tailless_spline_refuses_outside_input():
    with pytest.raises(UserError, match=r"outside the spline domain \[-3.0, 3.0\]"):
        rq_spline(torch.tensor([5.0]), _raw(0)[None].float(), K, B, tails="none")


def test_derivative_matches_autograd():
    raw = _raw(2)
    x = torch.linspace(-B + 0.01, B - 0.01, 50, dtype=torch.float64, requires_grad=True)
    y, ladj = rq_spline(x, raw.expand(50, -1), K, B)
    (grad,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(ladj.exp(), grad, atol=1e-9, rtol=1e-9)
