"""The no-leakage guarantee and statelessness of evaluation."""

import pytest
import torch
from dyngraph_survey_models.models import JODIE, TGAT, TGN, EdgeBank, StaticEmbedding
from dyngraph_survey_models.protocol import batches, evaluate, replay
from dyngraph_survey_models.splits import chronological_split
from dyngraph_survey_models.training import TrainConfig, train_model

MODELS = {
    "tgn": lambda n: TGN(n, memory_dim=8, time_dim=4, embedding_dim=8, num_neighbors=4),
    "tgat": lambda n: TGAT(n, time_dim=4, embedding_dim=8, num_neighbors=4),
    "jodie": lambda n: JODIE(n, memory_dim=8, time_dim=4, embedding_dim=8),
    "edgebank": lambda n: EdgeBank(n),
    "static": lambda n: StaticEmbedding(n, embedding_dim=8),
}


def _trained(name, stream, splits):
    torch.manual_seed(0)
    m = MODELS[name](stream.num_nodes)
    train_model(m, splits, TrainConfig(epochs=1, batch_size=50, progress=False))
    return m


@pytest.mark.parametrize("name", list(MODELS))
def test_future_events_change_no_prediction(name, small_stream):
    s = small_stream
    sp = chronological_split(s, protocol="transductive-only")
    model = _trained(name, s, sp)
    cuts = (sp.val_time, sp.test_time)
    base = evaluate(model, sp, "test", k=5, batch_size=20, return_scores=True).scores
    # the cut time: the start of the 4th test batch
    test_t = sp.test.t
    t_cut = float(test_t[60])
    keep = s.t < t_cut
    # (a) delete every event at or after t_cut
    deleted = chronological_split(s.select(keep), protocol="transductive-only", cut_times=cuts)
    # (b) shuffle the endpoints of every event at or after t_cut
    perm = torch.randperm(int((~keep).sum()), generator=torch.Generator().manual_seed(5))
    shuffled_stream = s.select(torch.arange(len(s)))
    shuffled_stream.dst = torch.cat([s.dst[keep], s.dst[~keep][perm]])
    shuffled = chronological_split(shuffled_stream, protocol="transductive-only", cut_times=cuts)
    n_before = int((test_t < t_cut).sum())
    for other in (deleted, shuffled):
        got = evaluate(model, other, "test", k=5, batch_size=20, return_scores=True).scores
        assert torch.equal(got["pos"][:n_before], base["pos"][:n_before])
        assert torch.equal(got["neg"][:n_before], base["neg"][:n_before])


@pytest.mark.parametrize("name", ["tgn", "jodie", "edgebank"])
def test_evaluate_is_stateless(name, small_stream):
    sp = chronological_split(small_stream)
    model = _trained(name, small_stream, sp)
    a = evaluate(model, sp, "test", k=5)
    replay(model, sp.test)  # pollute the state: the next call must reset it
    b = evaluate(model, sp, "test", k=5)
    assert a.as_dict() == b.as_dict()
    c = evaluate(model, sp, "test", k=5, inductive=True)
    assert c.num_events == len(sp.new_node_test)


def test_tgn_scores_before_updating_memory(small_stream):
    s = small_stream
    sp = chronological_split(s, protocol="transductive-only")
    model = _trained("tgn", s, sp)
    res = evaluate(model, sp, "test", k=1, batch_size=20, return_scores=True).scores
    model.eval()
    with torch.no_grad():
        model.reset_state()
        replay(model, sp.history_before("test"), 20)
        sl = next(batches(sp.test, 20))
        src, dst, t, msg = sp.test.src[sl], sp.test.dst[sl], sp.test.t[sl], sp.test.msg[sl]
        mem_before = model.memory(src)[0].clone()
        before = model.score(src, dst, t)
        model.observe(src, dst, t, msg)
        mem_after = model.memory(src)[0]
        after = model.score(src, dst, t)
    assert not torch.equal(mem_before, mem_after)
    assert torch.equal(before, res["pos"][: src.numel()])
    assert not torch.equal(after, before)


def test_neighbours_are_strictly_earlier(small_stream):
    s = small_stream
    sp = chronological_split(s, protocol="transductive-only")
    model = _trained("tgn", s, sp)
    seen = []
    orig = model.embed

    def spy(nodes, t_query):
        _, _, e_id = model.neighbors(nodes.unique())
        if e_id.numel():
            seen.append((float(model.events.t[e_id].max()), t_query))
        return orig(nodes, t_query)

    model.embed = spy
    evaluate(model, sp, "test", k=2, batch_size=20)
    assert seen and all(te < tq for te, tq in seen)


def test_train_mode_applies_previous_batch_messages(small_stream):
    s = small_stream
    sp = chronological_split(s, protocol="transductive-only")
    model = TGN(s.num_nodes, memory_dim=8, time_dim=4, embedding_dim=8)
    model.fit_time_scale(sp.train.src, sp.train.dst, sp.train.t)
    model.train()
    model.reset_state()
    b0 = slice(0, 30)
    tr = sp.train
    model.observe(tr.src[b0], tr.dst[b0], tr.t[b0], tr.msg[b0])
    # stored, not yet applied: the buffer still says 0, the train-mode read applies them
    u = tr.src[:1]
    assert float(model.memory.last_update[u]) == 0.0
    _, last = model.memory(u)
    t_scaled = float(tr.t[b0][tr.src[b0] == u].max() / model.time_scale)
    assert float(last) == pytest.approx(t_scaled, rel=1e-5)


def test_tie_policy(small_stream):
    s = small_stream.select(torch.arange(100))
    s.t = torch.arange(100, dtype=torch.float64) // 7
    cuts = list(batches(s, 10))
    ends = [c.stop for c in cuts]
    assert all(e == 100 or s.t[e] != s.t[e - 1] for e in ends)
    with pytest.warns(UserWarning, match="loose"):
        list(batches(s, 10, tie_policy="loose"))
