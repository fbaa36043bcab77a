import numpy as np
import pytest
from ot.partial import entropic_partial_wasserstein
from ottawa import functional as F
from ottawa.aligner import OttawaAligner, ottawa_batch_from_vectors, ottawa_from_vectors
from ottawa.batched import batched_one_side_ot
from ottawa.config import OttawaConfig


def _problems(count, seed, low=1, high=30):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n, m = (int(x) for x in rng.integers(low, high + 1, size=2))
        u = rng.normal(size=(n, 8)) + 0.8
        v = rng.normal(size=(m, 8)) + 0.8
        C = F.cosine_cost(u, v)
        out.append(F.augment_and_scale(C, F.null_cost(C, u, "adaptive")))
    return out


def _pot(C, reg=0.05, null_weight=1.0, num_iter=2000, tol=1e-6):
    n, m1 = C.shape
    a = np.full(n, 1.0 / n)
    b = np.r_[np.full(m1 - 1, 1.0 / (m1 - 1)), null_weight]
    P, log = entropic_partial_wasserstein(
        a, b, C, reg, m=float(a.sum()), numItermax=num_iter, stopThr=tol, log=True
    )
    return P, len(log["err"])


@pytest.mark.parametrize(("null_weight", "num_iter"), [(1.0, 2000), (0.5, 2000), (1.0, 37)])
def test_batched_repeats_pots_iterates_on_every_problem(null_weight, num_iter):
    problems = _problems(8, seed=int(num_iter + 10 * null_weight), high=20)
    problems += [p[:k] for p, k in zip(problems[:3], (6, 7, 13), strict=True) if len(p) >= k]
    sol = batched_one_side_ot(problems, 0.05, null_weight, num_iter, 1e-6, chunk_elements=2000)
    for C, P, it, ok in zip(problems, sol.plans, sol.iterations, sol.converged, strict=True):
        ref, n_checks = _pot(C, null_weight=null_weight, num_iter=num_iter)
        assert P.shape == C.shape
        assert np.abs(P - ref).max() < 1e-9  # the issue asks 1e-6; round-off is ~1e-16
        assert n_checks == -(-int(it) // 10)  # POT logs the error every 10th iteration
        if it < num_iter:
            assert ok
    if num_iter == 37:
        assert not sol.converged.all() and sol.iterations.max() == 37


def test_padding_and_batch_company_do_not_change_a_plan():
    problems = _problems(12, seed=5)
    alone = [batched_one_side_ot([C], 0.05).plans[0] for C in problems[:3]]
    together = batched_one_side_ot(problems, 0.05).plans[:3]
    for x, y in zip(alone, together, strict=True):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-14)


def test_marginals_of_batched_plans():
    for C, P in zip(
        problems := _problems(2, 7, 3, 6),
        batched_one_side_ot(problems, 0.05, tol=1e-9, num_iter=3_000).plans,
        strict=True,
    ):
        n, m1 = C.shape
        np.testing.assert_allclose(P.sum(1), 1.0 / n, atol=1e-7)
        assert (P.sum(0)[:-1] <= 1.0 / (m1 - 1) + 1e-7).all() and P.sum() == pytest.approx(1.0)


def test_one_side_ot_solver_batched_matches_pot_and_refuses_bad_reg():
    C = _problems(1, 3, 5, 9)[0]
    np.testing.assert_allclose(
        F.one_side_ot(C, 0.05, solver="batched"), F.one_side_ot(C, 0.05, solver="pot"), atol=1e-12
    )
    with pytest.raises(ValueError, match="reg"):
        batched_one_side_ot([C], float("nan"))
    with pytest.raises(ValueError, match=r"C_augs\[0\]"):
        batched_one_side_ot([np.ones((3, 1))], 0.05)


def test_pipeline_batched_equals_per_pair_pot_with_iterations():
    rng = np.random.default_rng(0)
    vecs = [
        (rng.normal(size=(n, 16)) + 1, rng.normal(size=(m, 16)) + 1)
        for n, m in [(3, 5), (9, 4), (12, 12), (1, 3)]
    ]
    batched = ottawa_batch_from_vectors(vecs, OttawaConfig(solver="batched"))
    for (u, v), got in zip(vecs, batched, strict=True):
        ref = ottawa_from_vectors(u, v, OttawaConfig(solver="pot"))
        for key in ("plan_fwd", "plan_rev", "hall_words", "omi_words"):
            np.testing.assert_allclose(got[key], ref[key], rtol=0, atol=1e-12)
        assert got["pairs"] == ref["pairs"] and got["hall"] == pytest.approx(ref["hall"], abs=1e-12)
        assert all(got["converged"]) and min(got["iterations"]) >= 1


def test_aligner_on_text_reports_iterations(encoder):
    a = OttawaAligner(OttawaConfig(), encoder).align_batch(
        ["the cat sat on the mat today", "a dog ran"], ["the cat sat on the mat", "a big dog ran"]
    )
    b = OttawaAligner(OttawaConfig(solver="pot"), encoder).align_batch(
        ["the cat sat on the mat today", "a dog ran"], ["the cat sat on the mat", "a big dog ran"]
    )
    for x, y in zip(a, b, strict=True):
        assert np.abs(x.plan_fwd - y.plan_fwd).max() < 1e-12 and x.pairs == y.pairs
        assert len(x.extra["iterations"]) == 2 and all(x.extra["converged"])


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="no GPU")
def test_batched_on_gpu_matches_pot():
    problems = _problems(20, 11)
    sol = batched_one_side_ot(problems, 0.05, device="cuda")
    for C, P in zip(problems, sol.plans, strict=True):
        assert np.abs(P - _pot(C)[0]).max() < 1e-9
