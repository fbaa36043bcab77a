import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ottawa import functional as F
from ottawa.naive import naive_one_side_ot


def _problem(n, m, seed=0, d=16):
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    C = F.cosine_cost(u, v)
    return u, v, C, F.augment_and_scale(C, F.null_cost(C, u))


@pytest.mark.parametrize("solver", ["pot", "pot-log", "numpy", "torch", "torch-log"])
@pytest.mark.parametrize(("n", "m"), [(3, 4), (6, 7), (13, 5), (7, 13)])
def test_plan_matches_oracle_and_marginals(solver, n, m):
    *_, C_aug = _problem(n, m, seed=n * m)
    args = {"num_iter": 100_000, "tol": 1e-12, "solver": solver}
    P = F.one_side_ot(C_aug, 0.05, **args)
    ref = naive_one_side_ot(C_aug, 0.05, **args)  # same parameters: the solver is ignored
    np.testing.assert_allclose(P, ref, atol=1e-9)
    np.testing.assert_allclose(P.sum(axis=1), 1.0 / n, atol=1e-8)  # rows exact
    assert (P.sum(axis=0)[:-1] <= 1.0 / m + 1e-8).all()  # real column caps
    assert P[:, -1].sum() <= 1.0 + 1e-8
    assert P.sum() == pytest.approx(1.0, abs=1e-8)  # null takes the rest
    assert (P >= 0).all()


def test_default_stopping_is_close_to_fixed_point():
    *_, C_aug = _problem(9, 11, seed=3)
    np.testing.assert_allclose(
        F.one_side_ot(C_aug, 0.05), naive_one_side_ot(C_aug, 0.05), atol=1e-4
    )


@pytest.mark.parametrize("n", [6, 7, 13])
def test_mass_argument_does_not_raise_where_sum_rounds_below_one(n):
    from ot.partial import entropic_partial_wasserstein

    a = np.full(n, 1.0 / n)
    assert sum([1.0 / n] * n) < 1.0 and a.sum() < 1.0  # the premise: the row mass rounds below 1
    *_, C_aug = _problem(n, 5, seed=n)
    b = np.concatenate([np.full(5, 1.0 / 5), [1.0]])
    with pytest.raises(ValueError, match="infeasible"):  # what the literal m=1.0 does in POT
        entropic_partial_wasserstein(a, b, C_aug, reg=0.05, m=1.0)
    P = F.one_side_ot(C_aug, 0.05, solver="pot")
    assert np.isfinite(P).all()
    assert P.sum() == pytest.approx(a.sum(), abs=1e-12)


def test_equidistant_direction_has_equal_cosines():
    rng = np.random.default_rng(1)
    u = rng.normal(size=(5, 12))
    V = u / np.linalg.norm(u, axis=1, keepdims=True)
    c = V.T @ np.linalg.pinv(V @ V.T) @ np.ones(5)
    cos = V @ (c / np.linalg.norm(c))
    assert cos.max() - cos.min() < 1e-8
    d = F.equidistant_distance(u)
    assert d == pytest.approx((1 - cos[0]) / 2, abs=1e-10)
    assert 0 <= d < 0.5
    assert F.equidistant_distance(u[:1]) == pytest.approx(0.0, abs=1e-12)


def test_null_cost_modes():
    u, _, C, _ = _problem(4, 6)
    assert F.null_cost(C, u, "median") == pytest.approx(np.median(C))
    assert F.null_cost(C, u, "adaptive") == max(np.median(C), F.equidistant_distance(u))
    assert F.null_cost(C, u, 0.3) == 0.3
    with pytest.raises(ValueError, match="null_cost"):
        F.null_cost(C, u, "nope")


def test_augment_and_scale_range():
    C = np.array([[0.2, 0.4], [0.3, 0.1]])
    A = F.augment_and_scale(C, 0.25)
    assert A.shape == (2, 3)
    assert A.min() == pytest.approx(0, abs=1e-9) and A.max() == pytest.approx(1.0)
    assert A[0, 2] == pytest.approx((0.25 - 0.1 + 1e-10) / (0.3 + 1e-10))


@settings(max_examples=30, deadline=None)
@given(
    st.integers(3, 7),
    st.integers(3, 7),
    st.integers(0, 10_000),
    st.floats(0.0, 0.5),
    st.floats(0.0, 0.5),
)
def test_raising_null_cost_never_increases_null_mass(n, m, seed, c1, dc):
    C = np.random.default_rng(seed).uniform(0, 1, size=(n, m))
    lo = F.augment_and_scale(C, c1, scale="none")
    hi = F.augment_and_scale(C, c1 + dc, scale="none")
    p_lo = F.one_side_ot(lo, 0.1, num_iter=20_000, tol=1e-12, solver="numpy")[:, -1].sum()
    p_hi = F.one_side_ot(hi, 0.1, num_iter=20_000, tol=1e-12, solver="numpy")[:, -1].sum()
    assert p_hi <= p_lo + 1e-7


def test_bad_reg_and_shapes():
    for reg in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="reg"):
            F.one_side_ot(np.zeros((2, 3)), reg)
    with pytest.raises(ValueError, match="C_aug"):
        F.one_side_ot(np.zeros((2,)), 0.1)


def test_mutual_argmax_modes():
    P_fwd = np.array([[0.9, 0.0, 0.1], [0.0, 0.1, 0.9]])  # src 1 -> null
    P_rev = np.array([[0.8, 0.1, 0.1], [0.0, 0.9, 0.1]])  # mt 1 -> src 1
    assert F.mutual_argmax(P_fwd, P_rev) == [(0, 0)]
    assert F.mutual_argmax(P_fwd, P_rev, "reverse") == [(0, 0), (1, 1)]
    assert F.mutual_argmax(P_fwd, P_rev, "union") == [(0, 0), (1, 1)]
    assert F.mutual_argmax(P_fwd, P_rev, "forward") == [(0, 0)]


@pytest.mark.parametrize(("n", "m"), [(3, 9), (12, 10), (25, 4)])
def test_numpy_solver_repeats_pots_iterates(n, m):
    *_, C_aug = _problem(n, m, seed=n + m)
    np.testing.assert_allclose(
        F.one_side_ot(C_aug, 0.05, solver="numpy"),
        F.one_side_ot(C_aug, 0.05, solver="pot"),
        atol=1e-12,
    )
