import itertools

import pytest
import torch
from dyngraph_survey_models import metrics as M
from dyngraph_survey_models.models import TGN
from dyngraph_survey_models.models.dysat import DySAT
from dyngraph_survey_models.models.snapshot import EvolveGCNO
from dyngraph_survey_models.protocol import batches, evaluate
from dyngraph_survey_models.snapshot_protocol import (
    SnapshotLinkModel,
    evaluate_snapshots,
    train_snapshots,
)
from dyngraph_survey_models.snapshots import to_snapshots
from dyngraph_survey_models.splits import chronological_split
from dyngraph_survey_models.training import TrainConfig, train_model


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


def test_snapshot_link_prediction_runs(small_stream):
    snaps = to_snapshots(small_stream, num_snapshots=8)
    cand = small_stream.dst_candidates()
    for enc in (EvolveGCNO(small_stream.num_nodes, 8), DySAT(small_stream.num_nodes, 8, 8)):
        model = SnapshotLinkModel(enc, 8)
        losses = train_snapshots(model, snaps[:6], cand, epochs=3)
        assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses)))
        m = evaluate_snapshots(model, snaps, 6, cand, k=5)
        assert 0 <= m["ap"] <= 1 and 0 < m["mrr"] <= 1


def test_snapshot_models_scored_on_the_protocol_events(small_stream):
    from dyngraph_survey_models.negatives import NegativeSampler
    from dyngraph_survey_models.snapshot_protocol import score_events_from_snapshots
    from dyngraph_survey_models.snapshots import snapshot_bounds
    from papershelf.errors import UserError

    s = small_stream
    snaps = to_snapshots(s, num_snapshots=6)
    win = snapshot_bounds(s, num_snapshots=6)
    part = s.select(win == 5)
    model = SnapshotLinkModel(EvolveGCNO(s.num_nodes, 8), 8)
    a = score_events_from_snapshots(
        model, snaps, win[win == 5], part, NegativeSampler("random", s, seed=2), k=4
    )
    b = score_events_from_snapshots(
        model, snaps, win[win == 5], part, NegativeSampler("random", s, seed=2), k=4
    )
    assert a == b and 0 <= a["ap"] <= 1
    # oracle: every event scored on its own from Z[window - 1], against the sampler's negatives
    late = win >= 3
    part, w_part = s.select(late), win[late]
    got = score_events_from_snapshots(
        model, snaps, w_part, part, NegativeSampler("random", s, seed=2), k=4, batch_size=50
    )
    z, _ = model.encoder.encode(snaps[:-1])
    sampler, dec = NegativeSampler("random", s, seed=2), model.decoder
    pos, neg = [], []
    with torch.no_grad():
        for sl in batches(part, 50):
            ns, nd = sampler.sample(part.src[sl], part.dst[sl], float(part.t[sl][0]), k=4)
            for j, e in enumerate(range(sl.start, sl.stop)):
                zz = z[int(w_part[e]) - 1]
                pos.append(float(dec(zz[part.src[e]], zz[part.dst[e]])))
                neg.append([float(dec(zz[ns[j, c]], zz[nd[j, c]])) for c in range(4)])
    pos, neg = torch.tensor(pos), torch.tensor(neg)
    flat, lab = (
        torch.cat([pos, neg[:, 0]]),
        torch.cat([torch.ones(len(pos)), torch.zeros(len(pos))]),
    )
    assert got["ap"] == pytest.approx(M.average_precision(flat, lab), abs=1e-6)
    assert got["auc"] == pytest.approx(M.roc_auc(flat, lab), abs=1e-6)
    assert got["mrr"] == pytest.approx(M.mrr(pos, neg), abs=1e-6)
    with pytest.raises(UserError, match="first window"):
        score_events_from_snapshots(
            model, snaps, win[win == 0], s.select(win == 0), NegativeSampler("random", s), k=2
        )
