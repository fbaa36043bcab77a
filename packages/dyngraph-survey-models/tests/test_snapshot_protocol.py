import pytest
import torch
from dyngraph_survey_models.metrics import mrr
from dyngraph_survey_models.models.dysat import DySAT
from dyngraph_survey_models.models.snapshot import EvolveGCNO
from dyngraph_survey_models.protocol import batches
from dyngraph_survey_models.snapshot_protocol import (
    SnapshotLinkModel,
    evaluate_snapshots,
    train_snapshots,
)
from dyngraph_survey_models.snapshots import to_snapshots
from sklearn.metrics import average_precision_score, roc_auc_score


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
    # labels first: scikit-learn's AP/AUC of the same pooled scores
    assert got["ap"] == pytest.approx(average_precision_score(lab, flat), abs=1e-6)
    assert got["auc"] == pytest.approx(roc_auc_score(lab, flat), abs=1e-6)
    assert got["mrr"] == pytest.approx(mrr(pos, neg), abs=1e-6)
    with pytest.raises(UserError, match="first window"):
        score_events_from_snapshots(
            model, snaps, win[win == 0], s.select(win == 0), NegativeSampler("random", s), k=2
        )


def test_train_snapshots_is_full_batch_adam(small_stream):
    # one Adam step per epoch on the mean next-snapshot BCE: a plain loop gives the same
    # losses and weights
    import torch.nn.functional as F
    from dyngraph_survey_models.negatives import random_destinations

    snaps = to_snapshots(small_stream, num_snapshots=6)
    cand = small_stream.dst_candidates()
    torch.manual_seed(0)
    a = SnapshotLinkModel(EvolveGCNO(small_stream.num_nodes, 8), 8)
    torch.manual_seed(0)
    b = SnapshotLinkModel(EvolveGCNO(small_stream.num_nodes, 8), 8)
    got = train_snapshots(a, snaps, cand, epochs=3, lr=1e-2, seed=4)
    torch.manual_seed(4)
    gen = torch.Generator().manual_seed(4)
    opt = torch.optim.Adam(b.parameters(), lr=1e-2)
    want = []
    for _ in range(3):
        z, _ = b.encoder.encode(snaps[:-1])
        terms = []
        for k in range(len(snaps) - 1):
            ei = snaps[k + 1].edge_index
            neg = random_destinations(cand, ei[1], 1, gen)[:, 0]
            pos, ng = b.decoder(z[k][ei[0]], z[k][ei[1]]), b.decoder(z[k][ei[0]], z[k][neg])
            terms.append(
                F.binary_cross_entropy_with_logits(
                    torch.cat([pos, ng]), torch.cat([torch.ones_like(pos), torch.zeros_like(ng)])
                )
            )
        loss = torch.stack(terms).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        want.append(loss.item())
    assert got == want
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert train_snapshots(a, snaps, cand, epochs=0) == []
