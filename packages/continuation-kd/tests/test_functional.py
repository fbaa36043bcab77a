"""The losses against Eq. 2–4 computed by hand and by the naive references (float64)."""

import pytest
import torch
from continuation_kd.functional import annealing_loss, continuation_loss
from continuation_kd.naive import naive_annealing_loss, naive_continuation_loss
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

D64 = torch.float64


def test_two_example_batch_by_hand():
    # example 0 inside the margin, example 1 outside: only example 1 contributes
    s = torch.tensor([[1.0, 0.0], [3.0, 0.0]], dtype=D64, requires_grad=True)
    t = torch.tensor([[2.0, 0.0], [0.0, 0.0]], dtype=D64)
    y = torch.tensor([0, 1])
    phi, psi, m = 0.5, 0.25, 1.0
    # d0 = (1 - 1)^2 = 0 <= m*phi = 0.5 -> 0 ; d1 = 9 -> 9 - 0.5 = 8.5 ; hinge mean = 4.25
    ce = (F.cross_entropy(s.detach()[0:1], y[0:1]) + F.cross_entropy(s.detach()[1:2], y[1:2])) / 2
    expected = psi * ce + (1 - psi) * 4.25
    loss = continuation_loss(s, t, y, phi=phi, psi=psi, margin=m)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    # hinge gradient: 0 for example 0, 2 (z_S - phi z_T) / B for example 1
    hinge = continuation_loss(s, t, y, phi=phi, psi=0.0, margin=m)
    (g,) = torch.autograd.grad(hinge, s)
    torch.testing.assert_close(g[0], torch.zeros(2, dtype=D64))
    torch.testing.assert_close(g[1], torch.tensor([3.0, 0.0], dtype=D64))


def test_hinge_is_applied_per_sample_before_the_mean():
    s = torch.tensor([[0.0], [2.0]], dtype=D64)
    t = torch.zeros(2, 1, dtype=D64)
    # per-sample: max(0, 0-1) + max(0, 4-1) = 3 -> mean 1.5 ; mean-then-hinge would give 1.0
    loss = continuation_loss(s, t, torch.tensor([0, 0]), phi=1.0, psi=0.0, margin=1.0)
    assert loss.item() == pytest.approx(1.5)


def test_mean_distance_zero_margin_is_mse():
    gen = torch.Generator().manual_seed(0)
    s, t = torch.randn(6, 5, generator=gen, dtype=D64), torch.randn(6, 5, generator=gen, dtype=D64)
    y = torch.zeros(6, dtype=torch.long)
    loss = continuation_loss(s, t, y, phi=0.3, psi=0.0, margin=0.0, distance="mean")
    torch.testing.assert_close(loss, F.mse_loss(s, 0.3 * t), rtol=1e-14, atol=0)


def test_psi_one_is_cross_entropy_without_teacher():
    s, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    assert torch.equal(
        continuation_loss(s, None, y, phi=1.0, psi=1.0, margin=1.0), F.cross_entropy(s, y)
    )


def test_psi_direction_first_epoch_is_mostly_hinge():
    gen = torch.Generator().manual_seed(1)
    s = torch.randn(8, 4, dtype=D64, generator=gen, requires_grad=True)
    t, y = 5 * torch.randn(8, 4, dtype=D64, generator=gen), torch.randint(0, 4, (8,), generator=gen)
    (g,) = torch.autograd.grad(continuation_loss(s, t, y, phi=0.1, psi=0.025, margin=0.0), s)
    (g_cnt,) = torch.autograd.grad(continuation_loss(s, t, y, phi=0.1, psi=0.0, margin=0.0), s)
    assert torch.nn.functional.cosine_similarity(g.flatten(), g_cnt.flatten(), dim=0) > 0.99


def test_regression_uses_mse_and_float_labels_refused_for_classification():
    s, y = torch.randn(4, 1), torch.randn(4)
    torch.testing.assert_close(
        continuation_loss(s, None, y, phi=1.0, psi=1.0, margin=0.0, task="regression"),
        F.mse_loss(s.squeeze(-1), y),
    )
    with pytest.raises(ValueError, match="float labels"):
        continuation_loss(torch.randn(4, 3), None, y, phi=1.0, psi=1.0, margin=0.0)


def test_shape_mismatch_refused():
    with pytest.raises(ValueError, match="same label count"):
        continuation_loss(
            torch.randn(2, 3), torch.randn(2, 4), torch.tensor([0, 1]), phi=1, psi=0.5, margin=0
        )


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    b=st.integers(1, 5),
    k=st.integers(1, 6),
    phi=st.floats(0.05, 1.0),
    psi=st.floats(0.0, 1.0),
    margin=st.floats(0.0, 5.0),
    distance=st.sampled_from(["sum", "mean"]),
    seed=st.integers(0, 1000),
)
def test_against_naive(b, k, phi, psi, margin, distance, seed):
    gen = torch.Generator().manual_seed(seed)
    s, t = (
        torch.randn(b, k, dtype=D64, generator=gen),
        3 * torch.randn(b, k, dtype=D64, generator=gen),
    )
    y = torch.randint(0, k, (b,), generator=gen)
    kw = dict(phi=phi, psi=psi, margin=margin, distance=distance)
    fast = continuation_loss(s, t, y, **kw).item()
    assert fast == pytest.approx(naive_continuation_loss(s, t, y, **kw), rel=1e-10, abs=1e-12)
    fa = annealing_loss(s, t, phi, distance).item()
    assert fa == pytest.approx(naive_annealing_loss(s, t, phi, distance), rel=1e-10, abs=1e-12)
