import pytest
import torch
from dyngraph_survey_models.models.snapshot import EvolveGCNH, EvolveGCNO, GConvGRU, gcn_propagate
from dyngraph_survey_models.testing import dense_gru, random_snapshots
from papershelf.errors import UserError
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv


def test_gconvgru_k1_edgeless_equals_dense_gru():
    n, i, d = 6, 3, 4
    m = GConvGRU(n, in_channels=i, hidden=d, K=1)
    x, h = torch.randn(n, i), torch.randn(n, d)
    snap = Data(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=n)
    got, _ = m.cell(snap, h, x)
    W = lambda c: c.lins[0].weight.t()  # noqa: E731
    B = lambda c: c.bias  # noqa: E731
    ref = dense_gru(
        x,
        h,
        W(m.conv_xz),
        W(m.conv_hz),
        W(m.conv_xr),
        W(m.conv_hr),
        W(m.conv_xh),
        W(m.conv_hh),
        B(m.conv_xz),
        B(m.conv_hz),
        B(m.conv_xr),
        B(m.conv_hr),
        B(m.conv_xh),
        B(m.conv_hh),
    )
    assert torch.allclose(got, ref, atol=1e-6)
    cell = torch.nn.GRUCell(i, d)  # reset-after-matmul form differs
    with torch.no_grad():
        cell.weight_ih.copy_(torch.cat([W(m.conv_xr).t(), W(m.conv_xz).t(), W(m.conv_xh).t()]))
        cell.weight_hh.copy_(torch.cat([W(m.conv_hr).t(), W(m.conv_hz).t(), W(m.conv_hh).t()]))
        cell.bias_ih.copy_(torch.cat([B(m.conv_xr), B(m.conv_xz), B(m.conv_xh)]))
        cell.bias_hh.copy_(torch.cat([B(m.conv_hr), B(m.conv_hz), B(m.conv_hh)]))
    assert not torch.allclose(cell(x, h), ref, atol=1e-4)


def test_gcn_propagate_matches_pyg_gcnconv():
    n, d = 10, 5
    snap = random_snapshots(n, 1)[0]
    x, w = torch.randn(n, d), torch.randn(d, d)
    conv = GCNConv(d, d, bias=False)
    with torch.no_grad():
        conv.lin.weight.copy_(w.t())
    assert torch.allclose(
        gcn_propagate(x @ w, snap.edge_index, snap.edge_weight, n),
        conv(x, snap.edge_index, snap.edge_weight),
        atol=1e-5,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: EvolveGCNO(12, 4),
        lambda: EvolveGCNO(12, 4, rnn="gru"),
        lambda: EvolveGCNH(12, 4),
        lambda: GConvGRU(12, 4, 4),
    ],
)
def test_snapshot_models_stateless_and_trainable(make):
    m = make()
    snaps = random_snapshots()
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    a, state = m(snaps)
    b, _ = m(snaps)
    assert torch.equal(a, b)  # nothing carried between calls
    assert state is not None
    for _ in range(2):  # two epochs with backward: no "backward through the graph a second time"
        z, _ = m(snaps)
        z.sum().backward()
        opt.step()
        opt.zero_grad()
    z_all, _ = m.encode(snaps)
    z_pref, _ = m.encode(snaps[:2])
    assert torch.allclose(z_all[1], z_pref[1], atol=1e-6)  # causal
    # passing the state continues the sequence
    z2, _ = m(snaps[2:], state=m.encode(snaps[:2])[1])
    assert torch.allclose(z2, z_all[-1], atol=1e-5)


def test_evolvegcn_h_refuses_small_graphs():
    with pytest.raises(UserError, match="num_nodes=3 must be >= in_channels=4"):
        EvolveGCNH(3, 4)
