"""Every flow family: distribution API, rsample/log_prob consistency, gradients, 2-D grid mass,
linear growth of the clamped families, extreme inputs, bad parameters refused."""

from __future__ import annotations

import flows
import pytest
import torch
from flows.metrics import grid_mass
from flows.testing import FLOW_DIMS, FLOWS, _randomize
from papershelf.errors import UserError


@pytest.mark.parametrize("name", list(FLOWS))
def test_flow_contract(name):
    d = FLOW_DIMS.get(name, 3)
    torch.manual_seed(0)
    flow = FLOWS[name](d).double().eval()  # eval: ActNorm's data-dependent init stays put
    dist = flow()
    x, lp = dist.rsample_and_log_prob((7,))
    assert x.shape == (7, d) and lp.shape == (7,)
    torch.testing.assert_close(dist.log_prob(x), lp, atol=1e-6, rtol=1e-6)
    flow.train()
    loss = -flow().log_prob(torch.randn(16, d, dtype=torch.float64)).mean()
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in flow.parameters())
    assert isinstance(dist, torch.distributions.Distribution)


@pytest.mark.parametrize("name", ["MAF", "NSF-coupling", "RealNVP", "TAF", "ResFlow", "GResFlow"])
def test_2d_density_integrates_to_one(name):
    torch.manual_seed(0)
    flow = FLOWS[name](2)
    _randomize(flow, 0.2)
    for m in flow.modules():
        if isinstance(m, flows.nn.SNLinear):
            m.power_iteration(100)
    flow.eval()
    dist = flow()
    with torch.no_grad():
        s = dist.sample((1000 if "Res" in name else 20000,))  # Res: fixed-point sampling is slow
    box = 8.0
    outside = float((s.abs() > box).any(-1).double().mean())
    mass = grid_mass(
        dist.log_prob, box=box, n=200 if "Res" in name else 300, outside_fraction=outside
    )
    assert abs(mass - 1) < 1.5e-2, mass


@pytest.mark.parametrize("name", ["MAF", "NSF-AR", "RealNVP"])
def test_clamped_flows_grow_linearly(name):
    """max |T(z)| / (1 + |z|) stays bounded out to |z| = 1e6 (tails paper: linear growth)."""
    torch.manual_seed(0)
    flow = FLOWS[name](2).double()
    _randomize(flow, 0.5)
    t = flow().transform
    dirs = torch.nn.functional.normalize(torch.randn(64, 2, dtype=torch.float64), dim=-1)
    ratios = []
    for r in (1e2, 1e4, 1e6):
        z = dirs * r
        with torch.no_grad():
            ratios.append(float((t(z).norm(dim=-1) / (1 + r)).max()))
    assert ratios[-1] < 2 * ratios[0] + 1


def test_unclamped_guard_blows_up():
    """The negative control: an unbounded exp log-scale, linear in z, grows super-linearly."""
    layer = flows.transforms.AffineCoupling(2, hidden=(4,), scale="exp").double()
    with torch.no_grad():
        for p in layer.parameters():
            p.zero_()
        layer.net[0].weight.fill_(1.0)
        layer.net[2].weight[1].fill_(1.0)
    z = torch.tensor([[10.0, 1.0], [30.0, 1.0]], dtype=torch.float64)
    x = layer()(z)
    assert x[1].norm() / 31 > 100 * x[0].norm() / 11


def test_extreme_inputs_finite_with_t_base_and_linear_tails():
    torch.manual_seed(0)
    flow = flows.NSF(2, transforms=2, hidden=(8,), base=flows.StudentT(2)).double()
    x = torch.tensor([[1e8, -1e8], [0.0, 1e8]], dtype=torch.float64)
    assert torch.isfinite(flow().log_prob(x)).all()


def test_param_groups_give_df_ten_times_the_lr():
    flow = flows.TAF(2, transforms=1)
    groups = flow.param_groups(1e-3)
    assert groups[1]["lr"] == pytest.approx(1e-2) and groups[1]["params"][0] is flow.base.theta


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: flows.MAF(0), "features"),
        (lambda: flows.MAF(2, transforms=0), "transforms"),
        (lambda: flows.NSF(2, bins=1), "bins: a spline needs bins >= 2"),
        (lambda: flows.NSF(2, bound=0.0), "bound"),
        (lambda: flows.ResFlow(2, coeff=1.2), "coeff"),
        (lambda: flows.ResFlow(2, logdet="roulette", n_exact_terms=-1), "n_exact_terms"),
        (lambda: flows.ResFlow(2, logdet="roulette", p=1.0), "roulette probability"),
        (lambda: flows.ResFlow(2, logdet="magic"), "logdet"),
        (lambda: flows.RealNVP(2, scale="huge"), "scale"),
        (lambda: flows.transforms.AffineCoupling(1), "coupling layers need features >= 2"),
    ],
)
def test_bad_parameters_refused(make, match):
    with pytest.raises(UserError, match=match):
        make()
