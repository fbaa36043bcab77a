"""Every flow family: distribution API, rsample/log_prob consistency, gradients, save/load via
FlowConfig, 2-D grid mass, linear growth of the clamped families, extreme inputs."""

from __future__ import annotations

import flows
import pytest
import torch
from flows.config import FlowConfig, build_flow, load_flow, save_flow
from flows.metrics import grid_mass
from flows.testing import FLOW_DIMS, FLOWS, _randomize


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
        s = dist.sample((5000 if "Res" in name else 20000,))
    box = 8.0
    outside = float((s.abs() > box).any(-1).double().mean())
    mass = grid_mass(
        dist.log_prob, box=box, n=200 if "Res" in name else 300, outside_fraction=outside
    )
    assert abs(mass - 1) < 1.5e-2, mass


@pytest.mark.parametrize("arch", ["maf", "nsf", "realnvp", "resflow", "gresflow", "giaf"])
def test_save_load_roundtrip_through_config(arch, tmp_path):
    d = 4
    cfg = FlowConfig(
        features=d,
        arch=arch,
        transforms=2,
        hidden=(8,),
        group="C4" if arch.startswith("g") else None,
        base="student-t" if arch == "maf" else "normal",
    )
    torch.manual_seed(0)
    flow = build_flow(cfg)
    _randomize(flow, 0.1)
    flow.eval()
    save_flow(tmp_path, flow, cfg, {"note": 1})
    loaded, cfg2, meta = load_flow(tmp_path)
    assert cfg2 == cfg and meta["note"] == 1
    x = torch.randn(5, d)
    assert torch.equal(flow().log_prob(x), loaded().log_prob(x))
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "model_config.json").is_file()


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
