import math

import pytest
import torch
from dyngraph_survey_models.decoders import IntensityDecoder, LinkDecoder
from dyngraph_survey_models.models import JODIE, EdgeBank
from dyngraph_survey_models.models.dysat import DySAT
from dyngraph_survey_models.models.snapshot import EvolveGCNH, EvolveGCNO, GConvGRU, gcn_propagate
from dyngraph_survey_models.naive import dense_gru, exact_edgebank
from dyngraph_survey_models.time_encoding import TGATTimeEncoding, make_time_encoder
from papershelf.errors import UserError
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv


def _snaps(n=12, t=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(t):
        ei = torch.randint(0, n, (2, 20), generator=g)
        out.append(Data(edge_index=ei, edge_weight=torch.ones(20), num_nodes=n))
    return out


def test_tgat_time_encoding_is_translation_invariant():
    enc = TGATTimeEncoding(8)
    t1, t2 = torch.tensor([3.0, 10.0]), torch.tensor([1.0, 8.0])
    dots = (enc(t1) * enc(t2)).sum(-1)
    assert torch.allclose(dots[0], dots[1], atol=1e-6)
    assert torch.allclose(enc(torch.zeros(1))[0], torch.tensor([1.0, 0.0] * 4) / math.sqrt(8))
    assert make_time_encoder("cos-linear", 4)(torch.zeros(3)).shape == (3, 4)
    with pytest.raises(UserError, match="even"):
        TGATTimeEncoding(5)


def test_jodie_projection_identity_at_zero():
    m = JODIE(5, memory_dim=6)
    s = torch.randn(3, 6)
    assert torch.equal(m.project(s, torch.zeros(3)), s)
    assert not torch.equal(m.project(s, torch.ones(3)), s)


def test_gconvgru_k1_edgeless_equals_dense_gru():
    n, i, d = 6, 3, 4
    m = GConvGRU(n, in_channels=i, hidden=d, K=1)
    x, h = torch.randn(n, i), torch.randn(n, d)
    snap = Data(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=n)
    got, _ = m.step(snap, h, x)
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
    snap = _snaps(n, 1)[0]
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
    snaps = _snaps()
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


def test_structural_attention_matches_pyg_gatconv():
    from dyngraph_survey_models.models.dysat import StructuralAttention
    from torch_geometric.nn import GATConv

    n, heads, dh = 9, 2, 3
    g = torch.Generator().manual_seed(1)
    ei = torch.randint(0, n, (2, 30), generator=g)
    ei = ei[:, ei[0] != ei[1]]  # GATConv drops existing self loops before adding its own
    x = torch.randn(n, 5, generator=g)
    ours = StructuralAttention(5, heads * dh, heads)
    ref = GATConv(5, dh, heads=heads, negative_slope=0.2, add_self_loops=True, bias=False)
    with torch.no_grad():
        ref.lin.weight.copy_(ours.lin.weight)
        ref.att_src.copy_(ours.att_src.view(1, heads, dh))
        ref.att_dst.copy_(ours.att_dst.view(1, heads, dh))
    # unit edge weights: the weighted logits are GAT's
    assert torch.allclose(ours(x, ei), torch.nn.functional.elu(ref(x, ei)), atol=1e-5)


def test_dysat_causal_mask():
    m = DySAT(12, 8, 8, heads=2)
    snaps = _snaps()
    z, _ = m.encode(snaps)
    changed = [*snaps[:2], *_snaps(seed=9)[2:]]
    z2, _ = m.encode(changed)
    assert torch.allclose(z[:2], z2[:2], atol=1e-6)
    assert not torch.allclose(z[3], z2[3])


def test_link_decoders():
    zu, zv = torch.randn(4, 6), torch.randn(4, 6)
    for kind in ("mlp", "hadamard", "dot"):
        assert LinkDecoder(kind, 6)(zu, zv).shape == (4,)
    assert torch.allclose(LinkDecoder("dot", 6)(zu, zv), (zu * zv).sum(-1))
    with pytest.raises(UserError, match="decoder"):
        LinkDecoder("cosine", 6)


def test_intensity_decoder():
    dec = IntensityDecoder(3)
    z = torch.zeros(50, 3)
    assert (dec.intensity(torch.randn(5, 3), torch.randn(5, 3)) > 0).all()
    dt = (
        torch.distributions.Exponential(0.25)
        .sample(
            (50,),
        )
        .abs()
        + 0.01
    )
    opt = torch.optim.Adam(dec.parameters(), lr=0.05)
    for _ in range(600):
        opt.zero_grad()
        dec.nll(z, z, dt).mean().backward()
        opt.step()
    lam = float(dec.intensity(z[:1], z[:1]))
    assert lam == pytest.approx(1 / float(dt.mean()), rel=0.02)  # MLE of an exponential
    assert float(dec.expected_dt(z[:1], z[:1])) == pytest.approx(float(dt.mean()), rel=0.02)
    small = IntensityDecoder(2, psi=1e-3)
    g = small._g(torch.ones(1, 2), torch.ones(1, 2))
    assert float(small.intensity(torch.ones(1, 2), torch.ones(1, 2))) == pytest.approx(
        max(float(g), 0.0), abs=1e-2
    )


def test_edgebank_matches_naive():
    hist = [(0, 1, 1.0), (1, 2, 2.0), (0, 1, 5.0), (2, 3, 6.0)]
    queries = [(0, 1, 7.0), (1, 2, 7.0), (2, 3, 7.0), (3, 0, 7.0)]
    for window in (None, 2.0):
        eb = EdgeBank(4, window=window)
        h = torch.tensor(hist)
        eb.observe(h[:, 0].long(), h[:, 1].long(), h[:, 2], torch.zeros(4, 0))
        q = torch.tensor(queries)
        got = eb.score(q[:, 0].long(), q[:, 1].long(), q[:, 2]).tolist()
        assert got == exact_edgebank(hist, queries, window)
