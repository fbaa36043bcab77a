"""Chronological training, the no-leakage guarantee and statelessness of evaluation."""

import itertools
import warnings

import pytest
import torch
from dyngraph_survey_models.config import TrainConfig
from dyngraph_survey_models.data import EventStream
from dyngraph_survey_models.models import JODIE, TGAT, TGN, EdgeBank, StaticEmbedding
from dyngraph_survey_models.negatives import NegativeSampler
from dyngraph_survey_models.protocol import (
    batches,
    eval_sampler,
    evaluate,
    history_end,
    replay,
    train_model,
)
from dyngraph_survey_models.splits import chronological_split
from sklearn.metrics import average_precision_score, roc_auc_score

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


def test_same_seed_same_result(small_stream):
    sp = chronological_split(small_stream)
    out = []
    for _ in range(2):
        torch.manual_seed(0)
        m = TGN(small_stream.num_nodes, memory_dim=8, time_dim=4, embedding_dim=8)
        h = train_model(m, sp, TrainConfig(epochs=2, batch_size=50, seed=0, progress=False))
        out.append((h.losses, evaluate(m, sp, "val", k=3).ap))
    assert out[0] == out[1]
    assert h.events_per_s > 0


def test_time_scale_fitted_on_train_only(small_stream):
    sp = chronological_split(small_stream)
    m = TGN(small_stream.num_nodes, memory_dim=8, time_dim=4, embedding_dim=8)
    train_model(m, sp, TrainConfig(epochs=0, progress=False))
    m2 = TGN(small_stream.num_nodes)
    assert float(m.time_scale) == m2.fit_time_scale(sp.train.src, sp.train.dst, sp.train.t)

    def mean_node_gap(stream):  # oracle: a plain loop over each node's event times
        times = {}
        for u, v, t in zip(
            stream.src.tolist(), stream.dst.tolist(), stream.t.tolist(), strict=True
        ):
            times.setdefault(u, []).append(t)
            times.setdefault(v, []).append(t)
        gaps = [b - a for ts in times.values() for a, b in itertools.pairwise(ts)]
        return sum(gaps) / len(gaps)

    assert float(m.time_scale) == pytest.approx(mean_node_gap(sp.train), rel=1e-9)
    assert float(m.time_scale) != pytest.approx(mean_node_gap(small_stream), rel=1e-6)


def _plain_train_loop(model, splits, config):
    """The loop train_model ran before papershelf.train (PyG's examples/tgn.py order): the
    oracle of its time order, per-epoch state reset, detach and per-epoch validation."""
    import torch.nn.functional as F

    torch.manual_seed(config.seed)
    train = splits.train
    model.fit_time_scale(train.src, train.dst, train.t)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    sampler = NegativeSampler(
        "random", splits.full, seed=config.seed, candidates=torch.unique(train.dst)
    )
    losses, val_ap = [], []
    for epoch in range(config.epochs):
        model.train()
        model.reset_state()
        total, count = 0.0, 0
        for sl in batches(train, config.batch_size):
            src, dst, t, msg = train.src[sl], train.dst[sl], train.t[sl], train.msg[sl]
            _, neg = sampler.sample(src, dst, float(t[0]), k=1)
            opt.zero_grad()
            b = src.numel()
            logits = model.score(
                torch.cat([src, src]), torch.cat([dst, neg[:, 0]]), torch.cat([t, t]), None
            )
            loss = F.binary_cross_entropy_with_logits(
                logits, torch.cat([torch.ones(b), torch.zeros(b)])
            )
            model.observe(src, dst, t, msg)
            loss.backward()
            opt.step()
            model.detach_state()
            total += loss.item() * b
            count += b
        losses.append(total / count)
        if config.val_every and (epoch + 1) % config.val_every == 0:
            val_ap.append(evaluate(model, splits, "val").ap)
    return losses, val_ap


@pytest.mark.parametrize("name", ["tgn", "jodie"])
def test_train_model_matches_the_plain_loop(name):
    # papershelf.train + the ChronologicalEpochs hook reproduce the epoch loop bit for bit:
    # same losses, same validation APs (val after epochs 2 and 4 of 5), same weights
    from dyngraph_survey_models.synthetic import drifting_bipartite

    stream = drifting_bipartite(
        num_users=20, num_items=30, num_communities=3, num_events=500, drift_period=100.0, seed=4
    )
    sp = chronological_split(stream)
    cfg = TrainConfig(epochs=5, batch_size=50, lr=1e-2, seed=1, val_every=2, progress=False)
    runs = []
    for fit in (lambda m: train_model(m, sp, cfg), lambda m: _plain_train_loop(m, sp, cfg)):
        torch.manual_seed(0)
        m = MODELS[name](stream.num_nodes)
        h = fit(m)
        losses, val_ap = (h.losses, h.val_ap) if hasattr(h, "losses") else h
        runs.append((losses, val_ap, [p.detach().clone() for p in m.parameters()]))
    (l1, v1, w1), (l2, v2, w2) = runs
    assert l1 == l2 and len(l1) == 5
    assert v1 == v2 and len(v1) == 2
    assert all(torch.equal(a, b) for a, b in zip(w1, w2, strict=True))


def test_train_model_edge_cases(small_stream):
    sp = chronological_split(small_stream)
    h = train_model(EdgeBank(small_stream.num_nodes), sp, TrainConfig(epochs=2, progress=False))
    assert h.losses == [] and h.events_per_s == 0.0  # nothing to train
    with pytest.raises(Exception, match="lr: must be > 0, got 0"):
        TrainConfig(lr=0)


def test_pooled_ap_auc_match_sklearn(small_stream):
    # the labels-first papershelf.metrics call sites: AP/AUC over the positives and negative
    # column 0, recomputed by scikit-learn from the returned scores
    sp = chronological_split(small_stream)
    model = _trained("static", small_stream, sp)
    m = evaluate(model, sp, "test", k=5, return_scores=True)
    pos, neg0 = m.scores["pos"].double(), m.scores["neg"][:, 0].double()
    y = [1] * len(pos) + [0] * len(pos)
    s = torch.cat([pos, neg0]).tolist()
    assert m.ap == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert m.auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_test_sampler_history_ends_at_end_of_validation(small_stream):
    sp = chronological_split(small_stream)
    for neg in ("historical", "inductive"):
        assert eval_sampler(sp, "test", neg).last_observed_time == sp.test_time
        assert eval_sampler(sp, "val", neg).last_observed_time == sp.val_time
        assert eval_sampler(sp, "test", neg, inductive=True).last_observed_time == sp.test_time
    assert float(sp.val.t.max()) <= history_end(sp, "test") < float(sp.test.t.min())
    assert float(sp.train.t.max()) <= history_end(sp, "val") < float(sp.val.t.min())


def test_test_inductive_negatives_exclude_validation_edges():
    # a stream with many distinct edges so the inductive pool never runs dry
    g = torch.Generator().manual_seed(0)
    n, e = 400, 3000
    src = torch.randint(0, 200, (e,), generator=g)
    dst = torch.randint(200, n, (e,), generator=g)
    s = EventStream(
        src,
        dst,
        torch.arange(e, dtype=torch.float64),
        num_nodes=n,
        bipartite=True,
        num_src_nodes=200,
    )
    sp = chronological_split(s, protocol="transductive-only")
    sampler = eval_sampler(sp, "test", "inductive")
    upto_val = set(
        zip(s.src[s.t <= sp.test_time].tolist(), s.dst[s.t <= sp.test_time].tolist(), strict=False)
    )
    part = sp.test
    checked = 0
    for sl in batches(part, 20):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a fill with random pairs would fail the test
            try:
                ns, nd = sampler.sample(
                    part.src[sl], part.dst[sl], float(part.t[sl][0]), float(part.t[sl][-1])
                )
            except UserWarning:
                continue
        pairs = set(zip(ns.view(-1).tolist(), nd.view(-1).tolist(), strict=False))
        seen = set(
            zip(
                s.src[s.t < part.t[sl][0]].tolist(),
                s.dst[s.t < part.t[sl][0]].tolist(),
                strict=False,
            )
        )
        assert pairs <= seen and not pairs & upto_val  # seen in test so far, never by val end
        checked += 1
    assert checked >= 10


def test_pool_excludes_the_whole_batch_window():
    # history: edges A=(0,10), B=(1,11), C=(2,12); the window [5, 7] holds B and C again,
    # but only B is passed as a positive (e.g. inductive scoring of a subset of the batch)
    src = torch.tensor([0, 1, 2, 3, 1, 2])
    dst = torch.tensor([10, 11, 12, 13, 11, 12])
    t = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 7.0], dtype=torch.float64)
    s = EventStream(src, dst, t, num_nodes=14, bipartite=True, num_src_nodes=4)
    for strategy, allowed in (("historical", {(0, 10), (3, 13)}), ("inductive", {(3, 13)})):
        for seed in range(20):
            sampler = NegativeSampler(strategy, s, last_observed_time=3.0, seed=seed)
            ns, nd = sampler.sample(torch.tensor([1]), torch.tensor([11]), 5.0, 7.0, k=1)
            assert (int(ns), int(nd)) in allowed, (strategy, seed)


DYGLIB_MODELS = {
    "tgn": lambda n: TGN(n, memory_dim=8, time_dim=4, embedding_dim=8, num_neighbors=4),
    "tgat": lambda n: TGAT(n, time_dim=4, embedding_dim=8, num_neighbors=3),
    "jodie": lambda n: JODIE(n, memory_dim=8, time_dim=4, embedding_dim=8),
    "edgebank": lambda n: EdgeBank(n),
}


@pytest.mark.parametrize("negatives", ["historical", "inductive"])
@pytest.mark.parametrize("name", list(DYGLIB_MODELS))
def test_future_invariance_with_historical_and_inductive_negatives(name, negatives, small_stream):
    s = small_stream
    sp = chronological_split(s, protocol="transductive-only")
    torch.manual_seed(0)
    model = DYGLIB_MODELS[name](s.num_nodes)
    train_model(model, sp, TrainConfig(epochs=1, batch_size=50, progress=False))
    cuts = (sp.val_time, sp.test_time)
    kw = dict(negatives=negatives, k=3, batch_size=20, return_scores=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = evaluate(model, sp, "test", **kw).scores
        t_cut = float(sp.test.t[60])
        keep = s.t < t_cut
        perm = torch.randperm(int((~keep).sum()), generator=torch.Generator().manual_seed(5))
        altered = s.select(torch.arange(len(s)))
        altered.dst = torch.cat([s.dst[keep], s.dst[~keep][perm]])
        altered.src = torch.cat([s.src[keep], s.src[~keep].flip(0)])
        other = chronological_split(altered, protocol="transductive-only", cut_times=cuts)
        got = evaluate(model, other, "test", **kw).scores
    n_before = int((sp.test.t < t_cut).sum())
    assert torch.equal(got["pos"][:n_before], base["pos"][:n_before])
    assert torch.equal(got["neg"][:n_before], base["neg"][:n_before])
    assert not torch.equal(got["pos"], base["pos"])  # the alteration did change later scores
