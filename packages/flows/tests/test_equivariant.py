"""Exact equivariance of every G-layer and invariance of every G-flow's density, for every
group; negative controls (the unsymmetrised map, a checkerboard split) and refusals."""

from __future__ import annotations

import flows
import pytest
import torch
from flows import groups
from flows.equivariant import GCouplingLayer, GIAFLayer, GResidualBlock, invariant_mask
from flows.nn import SNMLP, SNLinear
from flows.testing import _randomize
from papershelf.errors import UserError

GROUPS_POINTS = [groups.C(4), groups.C(8), groups.D(4), groups.Flip()]
CASES = (
    [("GResidual", g, 4) for g in [*GROUPS_POINTS, groups.Perm(2)]]
    + [
        ("GResidual", groups.Perm(3), 6),
        ("GResidual", groups.ImageC4((1, 4, 4)), 16),
        ("GResidual", groups.ImageD4((1, 4, 4)), 16),
    ]
    + [("GCoupling", g, 6) for g in GROUPS_POINTS]
    + [
        ("GCoupling", groups.Perm(3), 6),
        ("GCoupling", groups.ImageC4((2, 4, 4)), 32),
        ("GCoupling", groups.ImageD4((2, 4, 4)), 32),
    ]
    + [("GIAF", g, 6) for g in GROUPS_POINTS]
)


def _layer(kind: str, group, d: int):
    torch.manual_seed(0)
    if kind == "GResidual":
        m = GResidualBlock(d, group, hidden=(16,))
    elif kind == "GCoupling":
        m = GCouplingLayer(d, group, hidden=(16,))
    else:
        m = GIAFLayer(d, group, hidden=(16,))
    m = m.double()
    _randomize(m, 0.3)
    for sn in m.modules():
        if isinstance(sn, SNLinear):
            sn.power_iteration(200)
    return m.eval()


def _ids(case):
    return f"{case[0]}-{case[1].name}-D{case[2]}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_layer_is_equivariant_both_directions(case):
    kind, group, d = case
    t = _layer(kind, group, d)()
    x = torch.randn(5, d, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    fx, ladj = t.call_and_ladj(x)
    ix, iladj = t.inv.call_and_ladj(x)
    for i in range(len(group.dense(d))):
        gx = group.act(x, i)
        gfx, gladj = t.call_and_ladj(gx)
        torch.testing.assert_close(gfx, group.act(fx, i), atol=1e-8, rtol=0)
        torch.testing.assert_close(gladj, ladj, atol=1e-8, rtol=0)
        gix, giladj = t.inv.call_and_ladj(gx)
        torch.testing.assert_close(gix, group.act(ix, i), atol=1e-8, rtol=0)
        torch.testing.assert_close(giladj, iladj, atol=1e-8, rtol=0)


FLOW_CASES = [
    ("GResFlow", groups.C(4), 2),
    ("GResFlow", groups.D(4), 2),
    ("GResFlow", groups.Perm(3), 3),
    ("GCoupling", groups.C(4), 4),
    ("GCoupling", groups.Perm(2), 4),
    ("GIAF", groups.D(4), 6),
    ("GIAF", groups.C(4), 4),
]


@pytest.mark.parametrize("case", FLOW_CASES, ids=[_ids(c) for c in FLOW_CASES])
def test_flow_density_is_invariant(case):
    name, group, d = case
    torch.manual_seed(0)
    flow = getattr(flows, name)(d, group, transforms=2, hidden=(16,)).double()
    _randomize(flow, 0.3)
    for sn in flow.modules():
        if isinstance(sn, SNLinear):
            sn.power_iteration(200)
    flow.eval()
    x = torch.randn(50, d, dtype=torch.float64) * 2
    dist = flow()
    lp = dist.log_prob(x)
    for i in range(len(group.dense(d))):
        torch.testing.assert_close(dist.log_prob(group.act(x, i)), lp, atol=1e-8, rtol=0)
    assert flows.metrics.symmetry_error(dist.log_prob, x, group) < 1e-8


def test_negative_control_unsymmetrised_residual_is_not_equivariant():
    torch.manual_seed(0)
    block = flows.transforms.ResidualBlock(2, hidden=(16,)).double()
    _randomize(block, 0.3)
    block.g.linears[0].power_iteration(100)
    t = block.eval()()
    x = torch.randn(20, 2, dtype=torch.float64)
    g = groups.C(4)
    err = (t.inv(g.act(x, 1)) - g.act(t.inv(x), 1)).abs().max()
    assert err > 1e-3
    assert not block.equivariant_under(g)


def test_lipschitz_of_symmetrized_map_not_above_psi():
    torch.manual_seed(0)
    psi = SNMLP(2, 2, (16,), coeff=0.9).double()
    sym = groups.symmetrize(psi, groups.C(4), 2)
    x = torch.randn(300, 2, dtype=torch.float64)
    _, j_psi = psi.forward_with_jacobian(x)
    _, j_sym = sym.forward_with_jacobian(x)
    assert (
        torch.linalg.matrix_norm(j_sym, ord=2).max()
        <= torch.linalg.matrix_norm(j_psi, ord=2).max() + 1e-9
    )
    assert torch.linalg.matrix_norm(j_sym, ord=2).max() < 1
    torch.testing.assert_close(j_sym[0], torch.autograd.functional.jacobian(sym, x[0]))


def test_checkerboard_split_is_refused_and_single_point_coupling_refused():
    g = groups.ImageC4((1, 4, 4))
    checker = ((torch.arange(4)[:, None] + torch.arange(4)[None, :]) % 2 == 0).flatten()
    with pytest.raises(UserError, match="not invariant"):
        GCouplingLayer(16, g, mask=checker)
    with pytest.raises(UserError, match="single point of R\\^2"):
        invariant_mask(2, groups.C(4))
    with pytest.raises(UserError, match="channels"):
        flows.GCoupling(16, g)


def test_refusals_for_symmetry_breaking_layers_and_bad_groups():
    g = groups.C(4)
    with pytest.raises(UserError, match="not C4-equivariant"):
        flows.EquivariantFlow([flows.transforms.LULinear(2)], g)
    with pytest.raises(UserError, match="not C4-equivariant"):
        flows.EquivariantFlow([flows.transforms.ActNorm(2)], g)
    flows.EquivariantFlow([flows.transforms.ActNorm(2, isotropic=True)], g)  # allowed
    with pytest.raises(UserError, match="base: must be invariant"):
        flows.GResFlow(2, g, base=flows.DiagNormal(2, trainable=True))
    with pytest.raises(UserError, match="features must be even"):
        flows.GResFlow(3, g)
    with pytest.raises(UserError, match="multiple of 3"):
        flows.GResFlow(4, groups.Perm(3))
    with pytest.raises(UserError, match="DeepSets"):
        groups.Perm(7)
    with pytest.raises(UserError, match="square"):
        groups.ImageC4((1, 4, 5))
    with pytest.raises(UserError, match="images of shape"):
        flows.GResFlow(10, groups.ImageC4((1, 4, 4)))
    with pytest.raises(UserError, match="point group"):
        flows.GIAF(6, groups.Perm(3))
    with pytest.raises(UserError, match="at least one transform"):
        flows.EquivariantFlow([], g)
    with pytest.raises(UserError, match="transforms: must be an integer >= 1"):
        flows.GCoupling(4, g, transforms=0)


@pytest.mark.parametrize("group", [groups.C(4), groups.D(4)], ids=lambda g: g.name)
def test_roulette_gresflow_density_is_exactly_invariant_with_invariant_noise(group):
    """With G-invariant Hutchinson noise (the orbit of one Rademacher vector, one roulette
    draw) the stochastic log-density at rho(g) x equals the one at x under the same random
    state; with plain noise (the negative control) it does not."""
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def errors(invariant_noise):
        torch.manual_seed(0)
        flow = flows.GResFlow(
            4, group, transforms=2, hidden=(16,), logdet="roulette", invariant_noise=invariant_noise
        ).double()
        _randomize(flow)
        flow.eval()
        out = []
        with torch.no_grad():
            torch.manual_seed(5)
            ref = flow().log_prob(x)
            for i in range(len(group)):
                torch.manual_seed(5)
                out.append(float((flow().log_prob(group.act(x, i)) - ref).abs().max()))
        return max(out)

    assert errors(None) < 1e-10  # the default for a G-residual block
    assert errors(False) > 1e-4


def test_residual_block_default_n_exact_terms_is_the_official_10():
    """The official EFNF/Residual-Flows training scripts use n_exact_terms = 10."""
    block = GResidualBlock(2, groups.C(4), hidden=(8,), logdet="roulette")
    assert block.n_exact_terms == 10 and block.invariant_noise
    assert not flows.transforms.ResidualBlock(2, hidden=(8,)).invariant_noise
