"""Residual blocks: roulette log-det matches the exact one on average, fixed-point inverse,
gradients of the stochastic estimators."""

from __future__ import annotations

import math

import pytest
import torch
from flows.transforms import ResidualBlock


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
