"""Slow, obviously-correct references, used only as test oracles.

Each ``naive_<op>`` takes the same parameters, in the same order, as the fast ``<op>`` it
checks, so a test calls both with one set of arguments:

- :func:`naive_kron_linear` forms ``A ⊗ B`` explicitly with ``torch.kron``
  (:func:`krona.functional.kron_linear` never does);
- :func:`naive_kron_matrix` builds ``A ⊗ B`` entry by entry from
  ``(A⊗B)[i·b1+k, j·b2+l] = A[i,j]·B[k,l]`` (:func:`krona.functional.kron_matrix`);
- :func:`naive_lora_linear` forms the LoRA update ``lora_B @ lora_A`` explicitly
  (:func:`krona.baselines.lora_linear`).

The paper's column-major formula copied literally (a wrong product, kept as a negative
control) is :func:`krona.testing.paper_formula_literal`.

Renamed (the old name warns with ``DeprecationWarning`` for one release):
``kron_linear`` -> ``naive_kron_linear``, ``kron_by_definition`` -> ``naive_kron_matrix``,
``lora_linear(x, down, up)`` -> ``naive_lora_linear(x, lora_A, lora_B)``,
``paper_formula_literal`` -> ``krona.testing.paper_formula_literal``.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

__all__ = ["naive_kron_linear", "naive_kron_matrix", "naive_lora_linear"]


def naive_kron_linear(
    x: torch.Tensor, A: torch.Tensor, B: torch.Tensor, order: str = "auto"
) -> torch.Tensor:
    """``x @ kron(A, B)ᵀ``; ``x: (..., a2·b2)`` → ``(..., a1·b1)``.

    ``order`` is accepted for parity with ``kron_linear`` and ignored: there is one product.
    """
    del order
    return x @ torch.kron(A, B).T


def naive_kron_matrix(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
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


def naive_lora_linear(x: torch.Tensor, lora_A: torch.Tensor, lora_B: torch.Tensor) -> torch.Tensor:
    """``x @ (lora_B @ lora_A)ᵀ`` for ``lora_A: (r, d_in)``, ``lora_B: (d_out, r)``."""
    return x @ (lora_B @ lora_A).T


def _old_lora_linear(x: torch.Tensor, down: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    return naive_lora_linear(x, down, up)


def _old_paper_formula_literal(x: torch.Tensor, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    from krona.testing import paper_formula_literal

    return paper_formula_literal(x, A, B)


_RENAMED = {  # old name: (new name, the function under the old signature)
    "kron_linear": ("naive_kron_linear", naive_kron_linear),
    "kron_by_definition": ("naive_kron_matrix", naive_kron_matrix),
    "lora_linear": ("naive_lora_linear", _old_lora_linear),
    "paper_formula_literal": ("krona.testing.paper_formula_literal", _old_paper_formula_literal),
}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:  # the old names, kept for one release
        new, fn = _RENAMED[name]
        warnings.warn(f"krona.naive.{name} is renamed {new}", DeprecationWarning, stacklevel=2)
        return fn
    raise AttributeError(f"module 'krona.naive' has no attribute {name!r}")
