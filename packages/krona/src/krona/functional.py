"""Pure tensor operations of KronA (arXiv 2212.10650): the factorised Kronecker product,
factor-shape selection, budgets and the best Kronecker approximation.

Layout convention (``nn.Linear``, row-major): ``ΔW = A ⊗ B`` with ``A: (a1, a2)``,
``B: (b1, b2)``, ``a1·b1 = d_out``, ``a2·b2 = d_in`` and
``(A ⊗ B)[i·b1 + k, j·b2 + l] = A[i, j]·B[k, l]``. The paper writes ``Y = XW`` with
``W: (d_in, d_out)`` and a column-major ``γ(B·η(x)·Aᵀ)``; in PyTorch's row-major layout the
same product is ``A @ x.reshape(a2, b2) @ Bᵀ`` (derivation in :func:`kron_linear`).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F

from krona.errors import KronAError

Order = Literal["auto", "A_first", "B_first"]
Shapes = tuple[tuple[int, int], tuple[int, int]]

__all__ = [
    "best_kron_approx",
    "choose_order",
    "divisor_pairs",
    "factorization",
    "kron_linear",
    "kron_matrix",
    "kron_rearrange",
    "lora_rank_for_budget",
    "num_params",
    "order_costs",
]


def divisor_pairs(n: int) -> list[tuple[int, int]]:
    """All ``(m, n // m)`` with ``m ≤ n // m`` and ``m`` dividing ``n``."""
    return [(m, n // m) for m in range(1, math.isqrt(n) + 1) if n % m == 0]


def factorization(n: int, f: int = -1) -> tuple[int, int]:
    """Split ``n = m · (n // m)`` with ``m ≤ n // m`` (LyCORIS / PEFT ``factorization``).

    If ``f > 0`` divides ``n``, returns ``(min(f, n/f), max(f, n/f))``; otherwise the
    divisor pair closest to ``√n`` (``m`` = largest divisor ≤ √n), e.g. 384 → (16, 24),
    768 → (24, 32), 3072 → (48, 64).
    """
    if n < 1:
        raise KronAError(f"factorization: n must be a positive integer, got {n}")
    if f > 0 and n % f == 0:
        return (min(f, n // f), max(f, n // f))
    return divisor_pairs(n)[-1]


def num_params(shapes: Shapes) -> int:
    """Trainable parameters of one KronA module: ``a1·a2 + b1·b2``."""
    (a1, a2), (b1, b2) = shapes
    return a1 * a2 + b1 * b2


def lora_rank_for_budget(d_out: int, d_in: int, n_params: int) -> int:
    """The LoRA rank whose ``r·(d_in + d_out)`` parameters are closest to ``n_params`` (≥ 1)."""
    return max(1, round(n_params / (d_in + d_out)))


def order_costs(shapes: Shapes) -> dict[str, int]:
    """Multiply-adds per token of each association order (dense would be ``a1b1·a2b2``)."""
    (a1, a2), (b1, b2) = shapes
    return {"A_first": a1 * a2 * b2 + a1 * b2 * b1, "B_first": a2 * b2 * b1 + a1 * a2 * b1}


def choose_order(shapes: Shapes, order: Order = "auto") -> Literal["A_first", "B_first"]:
    """Resolve ``"auto"`` to the cheaper association order (ties go to ``"B_first"``)."""
    if order == "auto":
        costs = order_costs(shapes)
        return "A_first" if costs["A_first"] < costs["B_first"] else "B_first"
    if order not in ("A_first", "B_first"):
        raise KronAError(
            f"matmul_order: {order!r} is not allowed; use 'auto', 'A_first' or 'B_first'"
        )
    return order


def kron_linear(
    x: torch.Tensor, A: torch.Tensor, B: torch.Tensor, order: Order = "auto"
) -> torch.Tensor:
    """``x @ (A ⊗ B)ᵀ`` without forming ``A ⊗ B``.

    ``((A⊗B)x)[i·b1+k] = Σ_{j,l} A[i,j]·B[k,l]·x[j·b2+l] = (A·X·Bᵀ)[i,k]`` with ``X`` the
    row-major reshape of ``x`` to ``(a2, b2)``.

    Args:
        x: ``(..., a2·b2)``.
        A: ``(a1, a2)``.
        B: ``(b1, b2)``.
        order: ``"A_first"`` computes ``(A·X)·Bᵀ``, ``"B_first"`` ``A·(X·Bᵀ)``; ``"auto"``
            picks the cheaper one (:func:`order_costs`). Both give the same result.

    Returns:
        ``(..., a1·b1)``.
    """
    a1, a2 = A.shape
    b1, b2 = B.shape
    if x.shape[-1] != a2 * b2:
        raise KronAError(
            f"kron_linear: x has {x.shape[-1]} features, A⊗B expects a2·b2 = {a2 * b2}"
        )
    lead = x.shape[:-1]
    X = x.reshape(-1, a2, b2)
    if choose_order(((a1, a2), (b1, b2)), order) == "A_first":
        T = F.linear(X.transpose(-1, -2), A)  # (N, b2, a1) = (A·X)ᵀ
        Y = F.linear(T.transpose(-1, -2), B)  # (N, a1, b1)
    else:
        T = F.linear(X, B)  # (N, a2, b1) = X·Bᵀ
        Y = F.linear(T.transpose(-1, -2), A).transpose(-1, -2)  # (N, a1, b1)
    return Y.reshape(*lead, a1 * b1)


def kron_matrix(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """The dense ``A ⊗ B``, ``(a1·b1, a2·b2)``, in the layout above (``torch.kron``).

    What merging adds to the frozen weight; the forward pass never forms it
    (:func:`kron_linear`).
    """
    return torch.kron(A, B)


def kron_rearrange(M: torch.Tensor, shapes: Shapes) -> torch.Tensor:
    """Van Loan–Pitsianis rearrangement ``R(M)[i·a2+j, k·b2+l] = M[i·b1+k, j·b2+l]``.

    ``M: (a1·b1, a2·b2)`` → ``(a1·a2, b1·b2)``, so that ``R(A⊗B) = vec(A)·vec(B)ᵀ``.
    """
    (a1, a2), (b1, b2) = shapes
    return M.reshape(a1, b1, a2, b2).permute(0, 2, 1, 3).reshape(a1 * a2, b1 * b2)


def best_kron_approx(M: torch.Tensor, shapes: Shapes) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Best single Kronecker term ``A⊗B ≈ M`` in Frobenius norm (Van Loan & Pitsianis 1993).

    Args:
        M: ``(a1·b1, a2·b2)``.
        shapes: ``((a1, a2), (b1, b2))``.

    Returns:
        ``A: (a1, a2)``, ``B: (b1, b2)`` and the relative error
        ``√(Σ_{i≥2} σᵢ²) / ‖M‖_F`` of ``R(M)``'s singular values.
    """
    (a1, a2), (b1, b2) = shapes
    if M.shape != (a1 * b1, a2 * b2):
        raise KronAError(
            f"best_kron_approx: M has shape {tuple(M.shape)}, shapes give {(a1 * b1, a2 * b2)}"
        )
    U, S, Vh = torch.linalg.svd(kron_rearrange(M, shapes), full_matrices=False)
    root = S[0].sqrt()
    A = (U[:, 0] * root).reshape(a1, a2)
    B = (Vh[0] * root).reshape(b1, b2)
    total = M.norm()
    rel = float((S[1:].square().sum().sqrt() / total).item()) if total > 0 else 0.0
    return A, B, rel
