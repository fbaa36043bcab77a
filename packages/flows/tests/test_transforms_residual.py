"""Residual blocks: unbiased Russian roulette, biased truncated series, fixed-point inverse,
planar/radial invertibility constraints."""

from __future__ import annotations

import math

import flows
import pytest
import torch
from flows import logdet
from flows.transforms import Planar, Radial, ResidualBlock


def _contraction(d: int = 3, norm: float = 0.8) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return a / torch.linalg.matrix_norm(a, ord=2) * norm


def test_russian_roulette_is_unbiased_and_series_is_biased():
    """Mean of 10^4 draws (D=3) within 3 standard errors of the exact log det."""
    jac = _contraction()
    exact = float(logdet.exact(jac))
    gen = torch.Generator().manual_seed(1)
    n = 10_000
    v = (torch.randint(0, 2, (n, 3), generator=gen) * 2 - 1).double()
    vjp = lambda w: w @ jac  # noqa: E731
    draws = torch.stack(
        [
            logdet.russian_roulette(vjp, v[i : i + 1], p=0.5, n_exact_terms=2, generator=gen)[0]
            for i in range(n)
        ]
    )
    mean, se = float(draws.mean()), float(draws.std() / math.sqrt(n))
    assert abs(mean - exact) < 3 * se, (mean, exact, se)
    series = logdet.power_series(vjp, v, n_terms=1)
    s_mean, s_se = float(series.mean()), float(series.std() / math.sqrt(n))
    torch.testing.assert_close(
        torch.tensor(s_mean, dtype=torch.float64), torch.trace(jac), atol=4 * s_se, rtol=0
    )
    assert abs(s_mean - exact) > 5 * s_se  # the truncation bias is far above the noise


def test_residual_block_roulette_matches_exact_on_average():
    torch.manual_seed(0)
    block = ResidualBlock(2, hidden=(16,), logdet="roulette", n_exact_terms=4).double().eval()
    exact_block = ResidualBlock(2, hidden=(16,), logdet="exact", g=block.g).double().eval()
    x = torch.randn(1, 2, dtype=torch.float64).expand(4000, 2)
    with torch.no_grad():
        _, est = block().inv.call_and_ladj(x)
        _, ex = exact_block().inv.call_and_ladj(x[:1])
    assert (
        abs(float(est.mean()) - float(ex[0].detach()))
        < 4 * float(est.std()) / math.sqrt(4000) + 1e-6
    )


def test_fixed_point_inverse_error_bound():
    torch.manual_seed(0)
    block = ResidualBlock(3, hidden=(16,), coeff=0.9).double().eval()
    z = torch.randn(10, 3, dtype=torch.float64)
    x, _ = block().call_and_ladj(z)
    assert block.last_iterations < block.max_iter
    torch.testing.assert_close(x + block.g(x), z, atol=1e-8, rtol=0)


def test_planar_and_radial_constraints_keep_det_positive():
    torch.manual_seed(0)
    p = Planar(2).double()
    with torch.no_grad():
        p.w.copy_(torch.tensor([1.0, 2.0]))
        p.u.copy_(-5 * p.w / (p.w @ p.w))  # raw w.u = -5
    r = Radial(2).double()
    with torch.no_grad():
        r.raw_alpha.fill_(0.5)
        r.raw_beta.fill_(-10.0)
    grid = torch.stack(
        torch.meshgrid(
            torch.linspace(-5, 5, 41, dtype=torch.float64),
            torch.linspace(-5, 5, 41, dtype=torch.float64),
            indexing="ij",
        ),
        -1,
    )
    grid = grid.reshape(-1, 2)
    for layer in (p, r):
        t = layer.eval()()
        for z in grid[::37]:
            jac = torch.autograd.functional.jacobian(lambda v, t=t: t(v[None])[0], z)
            assert torch.linalg.det(jac) > 0


def test_reverse_kl_planar_training_stays_finite():
    torch.manual_seed(0)
    flow = flows.PlanarFlow(2, transforms=8)
    opt = torch.optim.Adam(flow.parameters(), lr=1e-2)
    means = torch.tensor([[2.0, 0.0], [-2.0, 0.0]])

    def log_target(x):
        return torch.logsumexp(-0.5 * ((x[:, None] - means) ** 2).sum(-1) / 0.25, dim=1)

    for _ in range(300):
        x, lp = flow().rsample_and_log_prob((64,))
        loss = (lp - log_target(x)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert torch.isfinite(loss)


@pytest.mark.filterwarnings("ignore:logdet='series' is a biased estimator")
def test_stochastic_logdet_keeps_gradients_in_eval_mode_and_none_under_no_grad():
    """Roulette/series blocks give the exact block's gradients in eval mode (they used to
    detach ``g(x)`` there, so ``dz/dx`` was ``I``) and build no graph under ``no_grad``."""
    torch.manual_seed(0)
    for kind in ("roulette", "series"):
        block = ResidualBlock(2, hidden=(16,), logdet=kind).double().eval()
        exact = ResidualBlock(2, hidden=(16,), logdet="exact", g=block.g).double().eval()
        x = torch.tensor([[0.3, -0.7]], dtype=torch.float64, requires_grad=True)
        z, ladj = block().inv.call_and_ladj(x)
        assert ladj.requires_grad
        (grad,) = torch.autograd.grad(z.sum(), x)
        jac = torch.autograd.functional.jacobian(exact().inv, x.detach())
        torch.testing.assert_close(grad, jac.sum((0, 1)), atol=1e-12, rtol=0)
        block.train()
        with torch.no_grad():
            z, ladj = block().inv.call_and_ladj(torch.randn(4, 2, dtype=torch.float64))
        assert not z.requires_grad and not ladj.requires_grad
