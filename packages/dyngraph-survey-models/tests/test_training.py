import torch
from dyngraph_survey_models.models import TGN
from dyngraph_survey_models.models.dysat import DySAT
from dyngraph_survey_models.models.snapshot import EvolveGCNO
from dyngraph_survey_models.protocol import evaluate
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
    import pytest
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
    with pytest.raises(UserError, match="first window"):
        score_events_from_snapshots(
            model, snaps, win[win == 0], s.select(win == 0), NegativeSampler("random", s), k=2
        )
