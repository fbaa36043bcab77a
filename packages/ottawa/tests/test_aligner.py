import numpy as np
import pytest
from ottawa.aligner import OttawaAligner, check_pairs, ottawa_from_vectors
from ottawa.config import OttawaConfig


def _ortho(n, d=32, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q[:n]


def test_identity_pair_is_diagonal():
    u = _ortho(6)
    r = ottawa_from_vectors(u, u, OttawaConfig())
    assert r["pairs"] == [(i, i) for i in range(6)]
    assert r["hall"] < 1e-2
    assert r["omi"] == 0


def test_far_target_is_all_null():
    rng = np.random.default_rng(0)
    u = _ortho(5)
    v = -u[:4] + 0.01 * rng.normal(size=(4, 32))  # cos ~ -1: all real costs >= 0.4
    r = ottawa_from_vectors(u, v, OttawaConfig(null_cost=0.0, scale="none"))
    assert r["pairs"] == []
    assert r["hall"] > 1.95
    assert r["omi"] == 1


def test_deleted_word_is_aligned_to_null():
    u = _ortho(7)
    j = 3
    v = np.delete(u, j, axis=0)
    r = ottawa_from_vectors(u, v, OttawaConfig())
    aligned = {i for i, _ in r["pairs"]}
    assert set(range(7)) - aligned == {j}
    assert r["omi"] == pytest.approx(1 / 7)
    assert int(np.argmax(r["plan_fwd"][:, -1])) == j


def test_appended_unrelated_word_raises_hall():
    u = _ortho(8)
    base = ottawa_from_vectors(u[:6], u[:6], OttawaConfig())
    more = ottawa_from_vectors(u[:6], np.vstack([u[:6], u[7:8]]), OttawaConfig())
    assert more["hall"] > base["hall"]
    assert abs(more["omi"] - base["omi"]) <= 1 / 6


def test_direction_swap():
    rng = np.random.default_rng(4)
    u, v = rng.normal(size=(6, 16)), rng.normal(size=(5, 16))
    cfg = OttawaConfig(solver="torch", tol=1e-12, num_iter=100_000)
    a, b = ottawa_from_vectors(u, v, cfg), ottawa_from_vectors(v, u, cfg)
    np.testing.assert_allclose(b["plan_rev"], a["plan_fwd"], atol=1e-12)
    np.testing.assert_allclose(b["plan_fwd"], a["plan_rev"], atol=1e-12)
    assert sorted((j, i) for i, j in a["pairs"]) == b["pairs"]
    assert b["omi"] == pytest.approx(a["hall"] - a["plan_rev"][:, -1].sum())


def test_word_scores_fraction_is_row_count_times_raw():
    rng = np.random.default_rng(5)
    u, v = rng.normal(size=(6, 16)), rng.normal(size=(4, 16))
    frac = ottawa_from_vectors(u, v, OttawaConfig(word_score="fraction"))
    raw = ottawa_from_vectors(u, v, OttawaConfig(word_score="raw"))
    np.testing.assert_allclose(frac["hall_words"], 4 * raw["hall_words"])
    np.testing.assert_allclose(frac["omi_words"], 6 * raw["omi_words"])
    assert frac["hall_words"].min() >= 0 and frac["hall_words"].max() <= 1 + 1e-9


def test_check_pairs_errors():
    with pytest.raises(ValueError, match="2 source sentences but 1"):
        check_pairs(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="mt: pair 1 is empty"):
        check_pairs(["a", "b"], ["a", "  "])


def test_align_text_identity_and_outputs(encoder, tmp_path):
    al = OttawaAligner(encoder=encoder)
    s = "the old farmer carried the heavy basket across the river"
    r = al.align(s, s)
    assert r.pairs == [(i, i) for i in range(len(s.split()))]
    assert r.omi == 0
    assert r.to_pharaoh().split()[0] == "0-0"
    d = r.to_dict()
    assert len(d["hall_words"]) == len(s.split())
    png = r.plot(tmp_path / "p.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert al.score([s], [s])[0]["omi"] == 0


def test_default_encoder_is_loaded_once_with_the_config_options(monkeypatch):
    from ottawa.baselines import ArgmaxAligner
    from ottawa.encoder import WordEncoder

    calls = []
    monkeypatch.setattr(
        WordEncoder, "offline", classmethod(lambda cls, **kw: calls.append(kw) or object())
    )
    al = OttawaAligner(OttawaConfig(subword_pool="mean", layer=-2))
    assert al.encoder is al.encoder
    assert ArgmaxAligner().encoder is not None
    assert calls == [{"subword_pool": "mean", "layer": -2}, {}]
