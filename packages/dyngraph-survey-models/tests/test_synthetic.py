import torch
from dyngraph_survey_models.synthetic import drifting_bipartite, periodic_tkg, stationary_bipartite


def test_reproducible_by_seed():
    a, b = drifting_bipartite(num_events=500, seed=7), drifting_bipartite(num_events=500, seed=7)
    c = drifting_bipartite(num_events=500, seed=8)
    assert torch.equal(a.dst, b.dst) and torch.equal(a.t, b.t)
    assert not torch.equal(a.dst, c.dst)
    assert torch.equal(periodic_tkg(seed=1).quads, periodic_tkg(seed=1).quads)


def test_schedule_matches_events():
    s = drifting_bipartite(num_events=3000, drift_period=200.0, seed=0)
    m = s.meta
    users = 100
    for e in range(len(s)):
        u = int(s.src[e])
        c = (m["user_community"][u] + int(float(s.t[e]) // 200.0)) % 5
        assert m["preferred"][e] == c
        if m["kind"][e] == "community":
            assert m["item_community"][int(s.dst[e]) - users] == c


def test_stationary_has_no_temporal_structure():
    s = stationary_bipartite(num_events=2000, seed=0)
    assert "repeat" not in s.meta["kind"]
    assert len(set(s.meta["preferred"][i] for i in range(len(s)) if int(s.src[i]) == 0)) == 1


def test_periodic_tkg_holds_when_sine_positive():
    d = periodic_tkg(num_entities=10, num_timestamps=30, seed=0)
    for r in range(d.num_relations):
        q = d.quads
        ts = q[(q[:, 1] == r) & (q[:, 0] == 0)][:, 3].unique()
        if d.periodic[r]:
            assert ts.numel() < 30
        else:
            assert ts.numel() == 30
