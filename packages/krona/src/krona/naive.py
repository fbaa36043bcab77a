"""Slow, obviously-correct references, used only as test oracles.

``kron_linear`` forms ``A ⊗ B`` explicitly with ``torch.kron``; ``kron_by_definition``
builds it entry by entry from ``(A⊗B)[i·b1+k, j·b2+l] = A[i,j]·B[k,l]``;
``paper_formula_literal`` is the paper's column-major ``γ(B·η_{b2×a2}(x)·Aᵀ)`` copied
literally into row-major PyTorch, kept as a negative control (it is wrong here).
"""

from __future__ import annotations

import torch

__all__ = ["kron_by_definition", "kron_linear", "lora_linear", "paper_formula_literal"]


def kron_linear(x: torch.Tensor, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """``x @ kron(A, B)ᵀ``; ``x: (..., a2·b2)`` → ``(..., a1·b1)``."""
    return x @ torch.kron(A, B).T


def kron_by_definition(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """``A ⊗ B`` of shape ``(a1·b1, a2·b2)`` from the entry formula, with Python loops."""
    a1, a2 = A.shape
    b1, b2 = B.shape
    out = torch.zeros(a1 * b1, a2 * b2, dtype=A.dtype)
    for i in range(a1):
        for j in range(a2):
            for k in range(b1):
                for l in range(b2):  # noqa: E741
                    out[i * b1 + k, j * b2 + l] = A[i, j] * B[k, l]
    return out


def paper_formula_literal(x: torch.Tensor, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """The paper's ``γ(B·η_{b2×a2}(x)·Aᵀ)`` with row-major reshapes: a WRONG product.

    ``x: (..., a2·b2)`` → ``(..., a1·b1)``; differs from ``x @ kron(A, B)ᵀ`` by O(1).
    """
    a1, a2 = A.shape
    b1, b2 = B.shape
    X = x.reshape(*x.shape[:-1], b2, a2)
    return (B @ X @ A.T).reshape(*x.shape[:-1], a1 * b1)


def lora_linear(x: torch.Tensor, down: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """``x @ (up @ down)ᵀ`` for ``down: (r, d_in)``, ``up: (d_out, r)``."""
    return x @ (up @ down).T
