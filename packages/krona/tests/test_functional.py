"""The fast product against the explicit ``torch.kron`` oracle, shapes, and the best Kronecker
approximation."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from krona import functional as kf
from krona.errors import KronAError
from krona.naive import naive_kron_linear, naive_kron_matrix
from krona.testing import paper_formula_literal

dims = st.integers(1, 7)
leads = st.sampled_from([(), (3,), (2, 3)])


@settings(max_examples=60, deadline=None)
@given(
    a1=dims,
    a2=dims,
    b1=dims,
    b2=dims,
    lead=leads,
    order=st.sampled_from(["A_first", "B_first", "auto"]),
    seed=st.integers(0, 10_000),
)
def test_fast_product_matches_kron_outputs_and_gradients_fp64(a1, a2, b1, b2, lead, order, seed):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(a1, a2, dtype=torch.float64, generator=g, requires_grad=True)
    B = torch.randn(b1, b2, dtype=torch.float64, generator=g, requires_grad=True)
    x = torch.randn(*lead, a2 * b2, dtype=torch.float64, generator=g, requires_grad=True)
    up = torch.randn(*lead, a1 * b1, dtype=torch.float64, generator=g)
    fast = kf.kron_linear(x, A, B, order)
    ref = naive_kron_linear(x, A, B, order)
    assert fast.shape == ref.shape == (*lead, a1 * b1)
    torch.testing.assert_close(fast, ref, atol=1e-10, rtol=0)
    grads_fast = torch.autograd.grad((fast * up).sum(), (x, A, B))
    grads_ref = torch.autograd.grad((ref * up).sum(), (x, A, B))
    for gf, gr in zip(grads_fast, grads_ref, strict=True):
        torch.testing.assert_close(gf, gr, atol=1e-10, rtol=0)


@settings(max_examples=25, deadline=None)
@given(a1=dims, a2=dims, b1=dims, b2=dims, order=st.sampled_from(["A_first", "B_first"]))
def test_fast_product_fp32_relative(a1, a2, b1, b2, order):
    g = torch.Generator().manual_seed(a1 * 1000 + a2 * 100 + b1 * 10 + b2)
    A, B = torch.randn(a1, a2, generator=g), torch.randn(b1, b2, generator=g)
    x = torch.randn(5, a2 * b2, generator=g)
    fast, ref = (
        kf.kron_linear(x, A, B, order),
        naive_kron_linear(x.double(), A.double(), B.double()),
    )
    assert ((fast.double() - ref).norm() / ref.norm().clamp_min(1e-30)) < 1e-5


def test_paper_formula_copied_literally_is_wrong_in_row_major():
    """Negative control: the column-major γ(B·η(x)·Aᵀ) transcribed as-is fails the oracle."""
    g = torch.Generator().manual_seed(0)
    for n in (4, 8, 16):
        A, B = (
            torch.randn(n, n, generator=g, dtype=torch.float64),
            torch.randn(n, n, generator=g, dtype=torch.float64),
        )
        x = torch.randn(10, n * n, generator=g, dtype=torch.float64)
        ref = naive_kron_linear(x, A, B)
        wrong = paper_formula_literal(x, A, B)
        assert (wrong - ref).norm() / ref.norm() > 0.1
        torch.testing.assert_close(kf.kron_linear(x, A, B), ref)


@settings(max_examples=20, deadline=None)
@given(a1=st.integers(1, 4), a2=st.integers(1, 4), b1=st.integers(1, 4), b2=st.integers(1, 4))
def test_kron_matrix_equals_the_entry_formula(a1, a2, b1, b2):
    g = torch.Generator().manual_seed(a1 + 7 * a2 + 49 * b1 + 343 * b2)
    A, B = torch.randn(a1, a2, generator=g), torch.randn(b1, b2, generator=g)
    torch.testing.assert_close(kf.kron_matrix(A, B), naive_kron_matrix(A, B))
    torch.testing.assert_close(kf.kron_matrix(A, B), torch.kron(A, B))


def test_both_orders_agree_and_costs():
    shapes = ((48, 24), (64, 32))
    costs = kf.order_costs(shapes)
    assert costs == {"A_first": 48 * 24 * 32 + 48 * 32 * 64, "B_first": 24 * 32 * 64 + 48 * 24 * 64}
    assert kf.choose_order(shapes) == min(costs, key=costs.get)
    with pytest.raises(KronAError, match="matmul_order"):
        kf.choose_order(shapes, "C_first")


@pytest.mark.parametrize(
    ("n", "pair"),
    [
        (384, (16, 24)),
        (768, (24, 32)),
        (1024, (32, 32)),
        (1536, (32, 48)),
        (3072, (48, 64)),
        (4096, (64, 64)),
        (97, (1, 97)),
        (12, (3, 4)),
    ],
)
def test_factorization_table(n, pair):
    assert kf.factorization(n) == pair


def test_factorization_with_factor():
    assert kf.factorization(768, 8) == (8, 96)
    assert kf.factorization(768, 96) == (8, 96)
    assert kf.factorization(768, 7) == kf.factorization(768)  # 7 does not divide 768: fallback


def test_param_count_and_budget_rank():
    assert kf.num_params(((16, 16), (24, 24))) == 832
    assert kf.lora_rank_for_budget(384, 384, 832) == 1
    assert kf.lora_rank_for_budget(384, 384, 1600) == 2
    assert kf.lora_rank_for_budget(384, 384, 10) == 1


@pytest.mark.parametrize("deficient", [False, True])
def test_rank_of_kron_is_product_of_ranks(deficient):
    g = torch.Generator().manual_seed(1)
    A = torch.randn(6, 6, generator=g, dtype=torch.float64)
    B = torch.randn(5, 5, generator=g, dtype=torch.float64)
    if deficient:
        A = A[:, :2] @ torch.randn(2, 6, generator=g, dtype=torch.float64)
        B = B[:, :3] @ torch.randn(3, 5, generator=g, dtype=torch.float64)
    rank = torch.linalg.matrix_rank
    assert rank(torch.kron(A, B)) == rank(A) * rank(B) == (6 if deficient else 30)


def test_rearrangement_of_a_kron_is_rank_one():
    g = torch.Generator().manual_seed(2)
    A = torch.randn(3, 4, generator=g, dtype=torch.float64)
    B = torch.randn(5, 2, generator=g, dtype=torch.float64)
    R = kf.kron_rearrange(torch.kron(A, B), ((3, 4), (5, 2)))
    torch.testing.assert_close(R, A.reshape(-1, 1) @ B.reshape(1, -1))
    assert torch.linalg.matrix_rank(R) == 1


def test_best_kron_approx_recovers_exact_kron_and_error_formula():
    g = torch.Generator().manual_seed(3)
    shapes = ((3, 4), (5, 2))
    A = torch.randn(3, 4, generator=g, dtype=torch.float64)
    B = torch.randn(5, 2, generator=g, dtype=torch.float64)
    M = torch.kron(A, B)
    A2, B2, err = kf.best_kron_approx(M, shapes)
    assert err < 1e-10
    torch.testing.assert_close(torch.kron(A2, B2), M, atol=1e-10, rtol=0)
    N = torch.randn(15, 8, generator=g, dtype=torch.float64)
    A3, B3, err = kf.best_kron_approx(N, shapes)
    S = torch.linalg.svdvals(kf.kron_rearrange(N, shapes))
    assert err == pytest.approx(float(S[1:].square().sum().sqrt() / N.norm()), rel=1e-9)
    assert float((N - torch.kron(A3, B3)).norm() / N.norm()) == pytest.approx(err, rel=1e-9)
    with pytest.raises(KronAError, match="best_kron_approx"):
        kf.best_kron_approx(N, ((3, 3), (5, 2)))


def test_kron_linear_refuses_wrong_width():
    with pytest.raises(KronAError, match="a2·b2"):
        kf.kron_linear(torch.randn(2, 7), torch.randn(2, 2), torch.randn(2, 3))
