"""MADE's autoregressive property and spectral normalisation."""

from __future__ import annotations

import torch
from flows.nn import MADE, SNMLP


def test_made_autoregressive_property_random_weights_and_orders():
    for order in (None, torch.tensor([2, 0, 3, 1])):
        made = MADE(4, 3, context=2, hidden=(17, 9), order=order).double()
        with torch.no_grad():
            for p in made.parameters():
                p.normal_()
        x = torch.randn(6, dtype=torch.float64)
        jac = torch.autograd.functional.jacobian(made, x)  # (4, 3, 6)
        deg = torch.arange(4) if order is None else order
        for i in range(4):
            for j in range(4):
                if deg[j] >= deg[i]:
                    assert jac[i, :, j].abs().max() == 0, (i, j)
        assert jac[:, :, 4:].abs().sum() > 0  # context reaches the outputs


def test_spectral_norm_bound_and_lipschitz_of_g():
    torch.manual_seed(0)
    mlp = SNMLP(3, 3, hidden=(32, 32), coeff=0.9).double()
    with torch.no_grad():
        for lin in mlp.linears:
            lin.weight.mul_(5)
            lin.power_iteration(500)
    for lin in mlp.linears:
        sigma = torch.linalg.matrix_norm(lin.normalized_weight(), ord=2)
        assert sigma <= 0.9 + 1e-3
    x = torch.randn(200, 3, dtype=torch.float64)
    _, jac = mlp.forward_with_jacobian(x)
    assert torch.linalg.matrix_norm(jac, ord=2).max() < 0.9**3 + 1e-3
    bound = mlp.lipschitz_bound()
    assert bound < 0.9**3 + 1e-3
    assert torch.linalg.matrix_norm(jac, ord=2).max() <= bound + 1e-9
    torch.testing.assert_close(jac[0], torch.autograd.functional.jacobian(mlp, x[0]))
