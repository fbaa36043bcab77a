"""Test helpers: a negative control for the factorised product.

``paper_formula_literal`` is the paper's column-major ``γ(B·η_{b2×a2}(x)·Aᵀ)`` copied
literally into row-major PyTorch. It is a WRONG product here, and the tests keep it to show
that :func:`krona.functional.kron_linear`'s row-major derivation is needed (the correct
oracle is :func:`krona.naive.naive_kron_linear`).
"""

from __future__ import annotations

import torch

__all__ = ["paper_formula_literal"]


def paper_formula_literal(x: torch.Tensor, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """The paper's ``γ(B·η_{b2×a2}(x)·Aᵀ)`` with row-major reshapes: a WRONG product.

    ``x: (..., a2·b2)`` → ``(..., a1·b1)``; differs from ``x @ kron(A, B)ᵀ`` by O(1).
    """
    a1, a2 = A.shape
    b1, b2 = B.shape
    X = x.reshape(*x.shape[:-1], b2, a2)
    return (B @ X @ A.T).reshape(*x.shape[:-1], a1 * b1)
