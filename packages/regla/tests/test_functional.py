"""The three forms against the float64 oracles of regla.naive: outputs, final states, gradients."""

import math

import pytest
import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from regla.functional import (
    gla_chunk,
    gla_parallel,
    gla_recurrent,
    gla_step,
    refine_gate,
    safe_exp,
    sigmoid_gate,
)
from regla.naive import naive_gla_chunk, naive_gla_parallel, naive_gla_recurrent, naive_refine_gate

RTOL = 1e-10


def _inputs(T, gate_shift=0.0, gate_scale=3.0, B=2, H=2, K=4, V=3, seed=0, grad=False):
    g = torch.Generator().manual_seed(seed)
    q, k = (torch.randn(B, T, H, K, generator=g, dtype=torch.float64) for _ in range(2))
    v = torch.randn(B, T, H, V, generator=g, dtype=torch.float64)
    a_g = torch.randn(B, T, H, K, generator=g, dtype=torch.float64) * gate_scale + gate_shift
    a_r = torch.randn(B, T, H, K, generator=g, dtype=torch.float64)
    s0 = torch.randn(B, H, K, V, generator=g, dtype=torch.float64)
    leaves = [x.requires_grad_(grad) for x in (q, k, v, a_g, a_r, s0)]
    return leaves


def _close(a, b):
    scale = max(1.0, float(b.abs().max()))
    assert float((a - b).abs().max()) <= RTOL * scale, float((a - b).abs().max())


@pytest.mark.parametrize("T", [1, 37, 70])
@pytest.mark.parametrize("shift", [0.0, -8.0, 12.0])  # gates mixed / near 0 / near 1
def test_all_forms_agree_with_the_recurrent_oracle(T, shift):
    q, k, v, a_g, a_r, s0 = _inputs(T, shift)
    log_f = refine_gate(a_g, a_r)
    ref_o, ref_s = naive_gla_recurrent(q, k, v, log_f, 0.7, s0, True)
    for C in (1, 4, 16, 64):
        o, s = gla_chunk(q, k, v, log_f, 0.7, s0, True, C)
        _close(o, ref_o)
        _close(s, ref_s)
    for fn in (gla_recurrent, gla_parallel, naive_gla_parallel):
        o, s = fn(q, k, v, log_f, 0.7, s0, True)
        _close(o, ref_o)
        _close(s, ref_s)
    o, s = naive_gla_chunk(q, k, v, log_f, 0.7, s0, True, 16)
    _close(o, ref_o)
    _close(s, ref_s)


@pytest.mark.parametrize("C,sub", [(4, None), (16, 4), (64, 16)])
@pytest.mark.parametrize("shift", [0.0, -8.0])
def test_chunk_gradients_match_the_recurrent_form(C, sub, shift):
    T = 37
    leaves = _inputs(T, shift, grad=True)
    grads = []
    for fn in (
        lambda *a: gla_recurrent(*a, 0.7, leaves[5], True),
        lambda *a: gla_chunk(*a, 0.7, leaves[5], True, C, sub),
    ):
        q, k, v, a_g, a_r, _ = leaves
        o, s = fn(q, k, v, refine_gate(a_g, a_r))
        w = torch.linspace(-1, 1, o.numel(), dtype=torch.float64).view_as(o)
        loss = (o * w).sum() + (s**2).sum()
        grads.append(torch.autograd.grad(loss, leaves))
    for a, b in zip(*grads, strict=True):
        _close(a, b)


def test_chunk_with_cumulative_decay_of_minus_500_is_finite_and_exact():
    q, k, v, _a_g, _a_r, _s0 = _inputs(64, B=1, H=1)
    log_f = torch.full_like(q, -500.0 / 64)  # one chunk decays by e^-500
    for dt in (torch.float64, torch.float32):
        args = [x.to(dt) for x in (q, k, v, log_f)]
        o, s = gla_chunk(*args, 1.0, None, True, 64)
        ref_o, _ref_s = gla_recurrent(*args, 1.0, None, True)
        assert torch.isfinite(o).all() and torch.isfinite(s).all()
        tol = 1e-10 if dt == torch.float64 else 1e-5
        assert torch.allclose(o, ref_o, rtol=tol, atol=tol)


def test_float32_chunk_matches_oracle_by_relative_rmse():
    q, k, v, a_g, a_r, _s0 = _inputs(200, B=1, H=2, K=16, V=16)
    log_f = refine_gate(a_g, a_r)
    ref, _ = naive_gla_recurrent(q, k, v, log_f)
    o, _ = gla_chunk(*(x.float() for x in (q, k, v, log_f)))
    rel = float(((o.double() - ref) ** 2).mean().sqrt() / (ref**2).mean().sqrt())
    assert rel < 0.005


def test_step_by_step_decoding_equals_the_full_forward():
    q, k, v, a_g, _a_r, s0 = _inputs(20)
    log_f = sigmoid_gate(a_g)
    full, final = gla_chunk(q, k, v, log_f, 0.5, s0, True, 8)
    state, outs = s0, []
    for t in range(20):
        o, state = gla_step(q[:, t], k[:, t], v[:, t], log_f[:, t], state, 0.5)
        outs.append(o)
    _close(torch.stack(outs, 1), full)
    _close(state, final)
    # split: forward(x1), then forward(x2, state)
    o1, s1 = gla_chunk(q[:, :7], k[:, :7], v[:, :7], log_f[:, :7], 0.5, s0, True, 4)
    o2, s2 = gla_chunk(q[:, 7:], k[:, 7:], v[:, 7:], log_f[:, 7:], 0.5, s1, True, 4)
    _close(torch.cat([o1, o2], 1), full)
    _close(s2, final)


def test_refine_gate_properties_and_closed_forms():
    a_g = torch.linspace(-30, 30, 401, dtype=torch.float64)
    g = torch.sigmoid(a_g)
    assert torch.allclose(refine_gate(a_g, torch.zeros_like(a_g)).exp(), g, rtol=1e-12, atol=0)
    big = torch.full_like(a_g, 60.0)
    hi = a_g > -10  # r = e^-60 is 0 only next to g^2 >= e^-20
    assert torch.allclose(refine_gate(a_g, -big).exp()[hi], g[hi] ** 2, rtol=1e-10, atol=0)
    assert torch.allclose(
        refine_gate(a_g, big).exp(), g * (2 - g), rtol=1e-10, atol=0
    )  # = 1 - (1 - g)^2
    a_r = torch.randn(401, dtype=torch.float64) * 3
    mid = torch.linspace(-8, 8, 401, dtype=torch.float64)
    assert torch.allclose(
        refine_gate(mid, a_r), naive_refine_gate(mid, a_r), rtol=1e-10, atol=1e-12
    )
    f = refine_gate(a_g, a_r).exp()
    assert bool(((f >= 0) & (f <= 1)).all())
    assert bool((refine_gate(a_g, torch.full_like(a_g, 0.3)).diff() >= 0).all())  # monotone in g
    assert torch.isfinite(refine_gate(torch.tensor([-1e4, 1e4]), torch.tensor([-1e4, -1e4]))).all()


def test_refine_gate_gradient_matches_the_closed_form():
    a_g = torch.linspace(-6, 6, 50, dtype=torch.float64, requires_grad=True)
    a_r = torch.linspace(3, -3, 50, dtype=torch.float64)
    (grad,) = torch.autograd.grad(refine_gate(a_g, a_r).exp().sum(), a_g)
    g, r = torch.sigmoid(a_g.detach()), torch.sigmoid(a_r)
    assert torch.allclose(grad, g * (1 - g) * (2 * g + 2 * r * (1 - 2 * g)), rtol=1e-10)


def test_safe_exp_is_bounded_with_query_rows_peaking_at_one():
    x = torch.randn(2, 9, 3, 5, dtype=torch.float64) * 10
    phi, _m = safe_exp(x, "feature")
    assert bool(((phi > 0) & (phi <= 1)).all())
    assert torch.equal(phi.amax(-1), torch.ones(2, 9, 3, dtype=torch.float64))
    phi_k, mk = safe_exp(x, "sequence")
    assert mk.shape == (2, 1, 3, 1) and bool((phi_k <= 1).all())
    assert torch.equal(phi_k.amax(dim=(1, 3)), torch.ones(2, 3, dtype=torch.float64))
    _, run = safe_exp(x, "sequence", running_max=torch.full((2, 1, 3, 1), 1e3, dtype=torch.float64))
    assert bool((run == 1e3).all())


def test_variance_identity_of_the_exp_feature_product():
    g = torch.Generator().manual_seed(0)
    d, n = 4, 500_000
    x, y = (
        torch.randn(n, d, generator=g, dtype=torch.float64),
        torch.randn(n, d, generator=g, dtype=torch.float64),
    )
    var = float((x.exp() * y.exp()).sum(-1).var()) / d
    assert abs(var / (math.e**2 * (math.e**2 - 1)) - 1) < 0.1


def test_bad_inputs_are_refused_with_one_line():
    q, k, v, a_g, _a_r, s0 = _inputs(5)
    with pytest.raises(UserError, match="log_f"):
        gla_chunk(q, k, v, torch.ones_like(q))
    with pytest.raises(UserError, match="log_f"):
        gla_recurrent(q, k, v, torch.full_like(q, float("nan")))
    with pytest.raises(UserError, match="chunk_size"):
        gla_chunk(q, k, v, F.logsigmoid(a_g), chunk_size=0)
    with pytest.raises(UserError, match="initial_state"):
        gla_chunk(q, k, v, F.logsigmoid(a_g), initial_state=s0[:, :1])
    with pytest.raises(UserError, match="initial_state"):
        gla_chunk(
            q.float(), k.float(), v.float(), F.logsigmoid(a_g).float(), initial_state=s0.half()
        )
    with pytest.raises(UserError, match="v:"):
        gla_parallel(q, k, v[:, :3], F.logsigmoid(a_g))
    with pytest.raises(UserError, match="q, k, log_f"):
        gla_chunk(q.transpose(1, 2), k, v, F.logsigmoid(a_g))
