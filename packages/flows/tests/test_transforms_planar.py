"""Planar and radial layers: the invertibility constraints keep det J > 0, also in training."""

from __future__ import annotations

import flows
import torch
from flows.transforms import Planar, Radial


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
