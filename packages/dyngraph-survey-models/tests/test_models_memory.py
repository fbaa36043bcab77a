import math

import pytest
import torch
from dyngraph_survey_models.models import JODIE, TGAT, TGN
from dyngraph_survey_models.models.tgat import TemporalNeighbors


def test_jodie_projection_identity_at_zero():
    m = JODIE(5, memory_dim=6)
    s = torch.randn(3, 6)
    assert torch.equal(m.project(s, torch.zeros(3)), s)
    assert not torch.equal(m.project(s, torch.ones(3)), s)


def _tgat_3_nodes(layers=1, heads=2):
    torch.manual_seed(0)
    m = TGAT(
        3,
        embedding_dim=4,
        time_dim=4,
        num_neighbors=2,
        num_layers=layers,
        heads=heads,
        sampling="recent",
        dropout=0.0,
    ).double()
    m.eval()
    m.reset_state()
    # events (0,1) at t=1 and (0,2) at t=2; the query: node 0 at t=4
    m.observe(torch.tensor([0, 0]), torch.tensor([1, 2]), torch.tensor([1.0, 2.0]), None)
    return m


def _phi(m, dt):
    """Φ(Δt) = √(1/d)[cos ω₁Δt, sin ω₁Δt, ...] from the module's ω, by hand."""
    w = m.time_enc.omega.detach().double()
    arg = torch.as_tensor(dt, dtype=torch.float64).view(-1, 1) * w
    return torch.stack([arg.cos(), arg.sin()], -1).flatten(-2) / math.sqrt(2 * w.numel())


def _layer_by_hand(layer, h_self, x_self, phi0, h_nbr, phi_nbr, heads):
    """TGAT eq. 7-10 written out: q = [h‖Φ(0)]W_Q, K/V = [h_u‖Φ(t-t_u)]W_K/W_V, per-head
    softmax(q·k/√d_h), h̃ = heads concatenated, FFN([h̃‖x])."""
    wq, wk, wv = (lin.weight.detach() for lin in (layer.w_q, layer.w_k, layer.w_v))
    q = torch.cat([h_self, phi0]) @ wq.T
    kv = torch.cat([h_nbr, phi_nbr], dim=1)
    keys, vals = kv @ wk.T, kv @ wv.T
    dh = q.numel() // heads
    out = []
    for h in range(heads):
        sl = slice(h * dh, (h + 1) * dh)
        a = torch.softmax(keys[:, sl] @ q[sl] / math.sqrt(dh), dim=0)
        out.append(a @ vals[:, sl])
    h_tilde = torch.cat(out)
    f1, f2 = layer.ffn[0], layer.ffn[3]
    hid = torch.relu(f1.weight.detach() @ torch.cat([h_tilde, x_self]) + f1.bias.detach())
    return f2.weight.detach() @ hid + f2.bias.detach()


def test_tgat_phi_zero():
    m = _tgat_3_nodes()
    phi0 = m.time_enc(torch.zeros(1, dtype=torch.float64))[0]
    assert torch.allclose(
        phi0.double(), torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64) / 2
    )


def test_tgat_one_layer_matches_hand_built_example():
    m = _tgat_3_nodes(layers=1)
    x = m.identity.weight.detach()
    with torch.no_grad():
        got = m.embed(torch.tensor([0]), torch.tensor([4.0], dtype=torch.float64))[0]
    want = _layer_by_hand(
        m.layers[0], x[0], x[0], _phi(m, [0.0])[0], x[[1, 2]], _phi(m, [3.0, 2.0]), heads=2
    )
    assert torch.allclose(got, want, atol=1e-12)
    # node 1 at t=1 has no strictly earlier neighbour: h̃ = 0, output FFN([0 ‖ x_1])
    with torch.no_grad():
        lonely = m.embed(torch.tensor([1]), torch.tensor([1.0], dtype=torch.float64))[0]
    f1, f2 = m.layers[0].ffn[0], m.layers[0].ffn[3]
    hid = torch.relu(
        f1.weight.detach() @ torch.cat([torch.zeros(4, dtype=torch.float64), x[1]])
        + f1.bias.detach()
    )
    assert torch.allclose(lonely, f2.weight.detach() @ hid + f2.bias.detach(), atol=1e-12)


def test_tgat_two_layers_recurse_at_neighbour_times():
    m = _tgat_3_nodes(layers=2)
    x = m.identity.weight.detach()
    with torch.no_grad():
        got = m.embed(torch.tensor([0]), torch.tensor([4.0], dtype=torch.float64))[0]
        h1 = lambda v, t: m.embed(torch.tensor([v]), torch.tensor([t], dtype=torch.float64), 1)[0]  # noqa: E731
        # layer-1 embeddings: node 0 at the query time, neighbours at their event times
        h_self, h_nbr = h1(0, 4.0), torch.stack([h1(1, 1.0), h1(2, 2.0)])
    want = _layer_by_hand(
        m.layers[1], h_self, x[0], _phi(m, [0.0])[0], h_nbr, _phi(m, [3.0, 2.0]), heads=2
    )
    assert torch.allclose(got, want, atol=1e-12)


def test_temporal_neighbours_recent_and_uniform():
    nb_recent = TemporalNeighbors(3, "recent")
    nb_uniform = TemporalNeighbors(3, "uniform", seed=1)
    t = torch.arange(1.0, 51.0, dtype=torch.float64)
    for nb in (nb_recent, nb_uniform):
        nb.insert(torch.zeros(50, dtype=torch.long), torch.arange(1, 51), t)
    q_t = torch.full((200,), 40.0, dtype=torch.float64)
    nbr, nt, eid, mask = nb_recent(torch.zeros(1, dtype=torch.long), q_t[:1])
    assert nt[0].tolist() == [37.0, 38.0, 39.0] and mask.all()  # the 3 latest strictly before 40
    assert eid[0].tolist() == [36, 37, 38] and nbr[0].tolist() == [37, 38, 39]
    nbr, nt, eid, mask = nb_uniform(torch.zeros(200, dtype=torch.long), q_t)
    assert mask.all() and (nt < 40).all() and float(nt.min()) < 10  # whole history reachable
    assert torch.equal(nbr, torch.round(nt).long()) and torch.equal(eid, nbr - 1)  # aligned
    nbr, nt, _eid, mask = nb_uniform(
        torch.tensor([0, 5]), torch.tensor([1.0, 100.0], dtype=torch.float64)
    )
    assert not mask[0].any()  # nothing before t=1 for node 0
    assert mask[1].all() and (nt[1] == 5.0).all()  # node 5's single event (t=5)


def test_jodie_projection_formula():
    m = JODIE(5, memory_dim=6)
    s, dt = torch.randn(3, 6), torch.tensor([0.0, 0.5, 2.0])
    want = (1 + dt.view(-1, 1) * m.w_p.detach()) * s  # JODIE eq. 3: (1 + w) ⊙ s, w = W_p Δ
    assert torch.allclose(m.project(s, dt), want)
    assert torch.equal(m.project(s, torch.zeros(3)), s)


def test_jodie_separate_updaters_and_own_memory_in_message():
    torch.manual_seed(0)
    m = JODIE(4, msg_dim=0, memory_dim=3, time_dim=2, embedding_dim=2, identity_in_messages=False)
    m.eval()
    m.reset_state()
    mem = m.memory
    u, i = torch.tensor([0]), torch.tensor([2])
    with torch.no_grad():
        m.observe(u, i, torch.tensor([1.0]), torch.zeros(1, 0))
        s_u1, s_i1 = mem.memory[0].clone(), mem.memory[2].clone()
        zero = torch.zeros(3)
        f = torch.zeros(1)  # width-0 features stored as one zero column
        x_u = torch.cat([zero, zero, f, mem.time_enc(torch.tensor([1.0]))[0]])
        assert torch.allclose(s_u1, mem.rnn_src(x_u[None], zero[None])[0], atol=1e-6)
        assert torch.allclose(s_i1, mem.rnn_dst(x_u[None], zero[None])[0], atol=1e-6)
        assert not torch.allclose(s_u1, s_i1)  # two different RNNs
        # second event of u (t = 3): the message holds u's own memory and the item's
        m.observe(u, i, torch.tensor([3.0]), torch.zeros(1, 0))
        x2 = torch.cat([s_u1, s_i1, f, mem.time_enc(torch.tensor([2.0]))[0]])
        assert torch.allclose(mem.memory[0], mem.rnn_src(x2[None], s_u1[None])[0], atol=1e-6)
        assert float(mem.memory[1].abs().sum()) == 0.0  # untouched node keeps its memory
        assert mem.last_update.dtype == torch.float64


def test_epoch_timestamps_keep_exact_one_second_gaps():
    t0 = 1.7e9
    t = t0 + torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64)
    src, dst = torch.tensor([0, 0, 0, 0]), torch.tensor([2, 2, 2, 2])
    assert (
        float(torch.tensor(t0 + 1, dtype=torch.float32) - torch.tensor(t0, dtype=torch.float32))
        != 1.0
    )
    seen = []
    for model in (
        TGN(3, memory_dim=4, time_dim=4, embedding_dim=4),
        JODIE(3, memory_dim=4, time_dim=4, embedding_dim=4),
    ):
        model.eval()
        model.reset_state()
        enc = model.memory.time_enc
        hook = enc.register_forward_pre_hook(lambda _m, a: seen.append(a[0].detach().clone()))
        with torch.no_grad():
            for k in range(4):
                model.observe(src[k : k + 1], dst[k : k + 1], t[k : k + 1], torch.zeros(1, 0))
        hook.remove()
        # Δ between consecutive events of node 0: exactly 1 s (time_scale = 1)
        assert [float(v[0]) for v in seen[-3 * 1 :]] == [1.0, 1.0, 1.0]
        assert float(model.memory.last_update[0]) == t0 + 3
    jodie = model
    with torch.no_grad():
        _mem, last = jodie.memory(torch.tensor([0]))
        dt = jodie.time_scale.new_tensor([t0 + 4]) - last
    assert float(dt) == 1.0
    tgat = TGAT(3, embedding_dim=4, time_dim=4, num_layers=1, sampling="recent", dropout=0.0)
    tgat.observe(src[:3], dst[:3], t[:3], None)
    _, nt, _, mask = tgat.neighbors(torch.tensor([0]), t[3:4])
    assert ((t[3] - nt[0][mask[0]]).tolist()) == [3.0, 2.0, 1.0]


@pytest.mark.parametrize("sampling", ["uniform", "recent"])
def test_tgat_trains_and_is_deterministic_in_eval(sampling, small_stream):
    from dyngraph_survey_models.config import TrainConfig
    from dyngraph_survey_models.protocol import evaluate, train_model
    from dyngraph_survey_models.splits import chronological_split

    sp = chronological_split(small_stream, protocol="transductive-only")
    torch.manual_seed(0)
    m = TGAT(
        small_stream.num_nodes, embedding_dim=8, time_dim=4, num_neighbors=3, sampling=sampling
    )
    hist = train_model(m, sp, TrainConfig(epochs=2, batch_size=50, lr=1e-2, progress=False))
    assert all(math.isfinite(v) for v in hist.losses)
    a, b = evaluate(m, sp, "test", k=3), evaluate(m, sp, "test", k=3)
    assert a.as_dict() == b.as_dict()
