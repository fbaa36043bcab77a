"""Bases: the Student-t against scipy and torch, its gradients, sampling; the flow distribution."""

from __future__ import annotations

import flows
import pytest
import scipy.stats
import torch
from flows.distributions import StudentTProduct
from flows.tails import hill, parzen_alpha
from papershelf.errors import UserError


@pytest.mark.parametrize("nu", [0.7, 2.0, 30.0])
def test_student_t_log_prob_matches_scipy_and_torch(nu):
    z = torch.linspace(-50, 50, 101, dtype=torch.float64)[:, None].repeat(1, 3)
    ours = StudentTProduct(torch.full((3,), nu, dtype=torch.float64)).log_prob(z)
    ref = torch.tensor(scipy.stats.t.logpdf(z.numpy(), nu).sum(-1))
    torch.testing.assert_close(ours, ref, atol=1e-10, rtol=1e-10)
    tt = torch.distributions.StudentT(torch.tensor(nu, dtype=torch.float64)).log_prob(z).sum(-1)
    torch.testing.assert_close(ours, tt)


def test_df_gradient_matches_finite_differences_and_large_nu_is_normal():
    z = torch.randn(20, 2, dtype=torch.float64) * 3
    nu = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    lp = StudentTProduct(nu.expand(2)).log_prob(z).sum()
    (g,) = torch.autograd.grad(lp, nu)
    h = 1e-6
    fd = (
        StudentTProduct(torch.full((2,), 3 + h, dtype=torch.float64)).log_prob(z).sum()
        - StudentTProduct(torch.full((2,), 3 - h, dtype=torch.float64)).log_prob(z).sum()
    ) / (2 * h)
    torch.testing.assert_close(g, fd, atol=1e-5, rtol=1e-6)
    z = z / 3  # |z| <~ 3: the t_nu - normal gap is O(z^4 / nu)
    big = StudentTProduct(torch.full((2,), 1e6, dtype=torch.float64)).log_prob(z)
    normal = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    torch.testing.assert_close(big, normal.double(), atol=1e-4, rtol=0)


def test_student_t_parametrisation_and_rsample():
    base = flows.StudentT(3, df="per_dim", df_init=10.0, df_min=0.5)
    torch.testing.assert_close(base.df, torch.full((3,), 10.0))
    sp = flows.StudentT(3, df="shared", df_param="softplus", df_init=4.0)
    torch.testing.assert_close(sp.df, torch.full((3,), 4.0))
    torch.manual_seed(0)
    s = base().rsample((1000,))
    assert s.shape == (1000, 3) and torch.isfinite(s).all()
    s.abs().mean().backward()
    assert base.theta.grad is not None and base.theta.grad.abs().sum() > 0


def test_student_t_samples_pass_ks_and_hill_recovers_nu():
    torch.manual_seed(0)
    d = StudentTProduct(torch.tensor([2.0], dtype=torch.float64))
    s = d.sample((1_000_000,))[:, 0]
    assert scipy.stats.kstest(s[:20000].numpy(), scipy.stats.t(2).cdf).pvalue > 1e-3
    nu_hat = float(hill(s, 0.005))
    assert 1.7 <= nu_hat <= 2.3
    assert parzen_alpha(2) == 1.5


def test_bad_degrees_of_freedom_refused():
    with pytest.raises(UserError, match="df: degrees of freedom must be > 0"):
        flows.StudentT(2, df=0.0)
    with pytest.raises(UserError, match="df_min"):
        flows.StudentT(2, df_min=0.0)
    with pytest.raises(UserError, match="df_init"):
        flows.StudentT(2, df_init=0.4, df_min=0.5)
    with pytest.raises(UserError, match="df: must be 'shared', 'per_dim'"):
        flows.StudentT(2, df="both")


def test_flow_distribution_consistency_and_context():
    torch.manual_seed(0)
    flow = flows.MAF(3, context=2, transforms=2, hidden=(16,))
    c = torch.randn(5, 2)
    d = flow(c)
    assert d.batch_shape == (5,) and d.event_shape == (3,)
    x, lp = d.rsample_and_log_prob((4,))
    assert x.shape == (4, 5, 3) and lp.shape == (4, 5)
    torch.testing.assert_close(d.log_prob(x), lp, atol=1e-4, rtol=1e-4)
    assert d.sample().shape == (5, 3)
    with pytest.raises(UserError, match="context"):
        flow()
    with pytest.raises(UserError, match="context"):
        flows.MAF(3)(c)
    with pytest.raises(UserError, match="x: the flow has 3 features but x has shape"):
        flows.MAF(3)().log_prob(torch.randn(4, 2))


def test_one_dimensional_density_integrates_to_one():
    torch.manual_seed(0)
    for flow in (
        flows.MAF(1, transforms=2),
        flows.TAF(1, transforms=2, df_init=3.0),
        flows.PlanarFlow(1, transforms=3),
    ):
        xs = torch.linspace(-60, 60, 60001, dtype=torch.float64)[:, None]
        with torch.no_grad():
            p = flow.double()().log_prob(xs).exp()
        mass = float(torch.trapezoid(p, xs[:, 0]))
        tail = 0.0 if flow.base.__class__.__name__ == "DiagNormal" else 0.002
        assert abs(mass - 1) < 1e-3 + tail, (type(flow).__name__, mass)
