"""Finite groups acting orthogonally on flat data ``(..., D)`` and group averaging.

- Point groups on ``R^2`` act identically on each of the ``k = D/2`` points of the data:
  ``C(n)`` (rotations by ``2 pi j/n``), ``D(n)`` (rotations and reflections), ``Flip()``.
- ``Perm(n)`` permutes ``n`` blocks of ``d = D/n`` coordinates (``n! <= 720``).
- ``ImageC4(shape)``, ``ImageD4(shape)`` rotate / flip ``(C, H, W)`` images (``H == W``),
  flattened to ``D = C H W``.

``symmetrize(psi, group)`` is ``g(x) = 1/|G| sum_h rho(h)^{-1} psi(rho(h) x)``: exactly
equivariant, with ``Lip(g) <= Lip(psi)`` because every ``rho(h)`` is orthogonal.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import torch
from papershelf.errors import UserError
from torch import Tensor, nn

__all__ = [
    "C",
    "D",
    "Flip",
    "Group",
    "ImageC4",
    "ImageD4",
    "Invariant",
    "Perm",
    "Symmetrized",
    "invariant",
    "symmetrize",
]


@dataclass(frozen=True)
class Group:
    """A finite group with an orthogonal representation; subclasses fill ``_dense``.

    Attributes:
        name: e.g. ``"C4"``.
        permutes_entries: ``rho(g)`` are permutation matrices (elementwise maps commute).
        rotation_only: a subgroup of SO(2) on each point (cross products are invariant).
    """

    name: str = field(default="group", init=False)
    permutes_entries: bool = field(default=False, init=False)
    rotation_only: bool = field(default=False, init=False)

    def __len__(self) -> int:
        return len(self.point_matrices())

    def point_matrices(self) -> Tensor:
        raise NotImplementedError

    @property
    def matrices(self) -> Tensor:
        """The representation on its natural unit (one R^2 point, or the block permutations)."""
        return self.point_matrices()

    def dense(self, features: int, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
        """``(|G|, D, D)`` matrices acting on flat ``(..., D)`` data."""
        raise NotImplementedError

    def check(self, features: int) -> None:
        self.dense(features)

    def act(self, x: Tensor, i: int) -> Tensor:
        """``rho(g_i) x`` for ``x: (..., D)``."""
        m = self.dense(x.shape[-1], x.dtype, x.device)[i]
        return x @ m.t()

    def inverse_act(self, x: Tensor, i: int) -> Tensor:
        """``rho(g_i)^{-1} x = rho(g_i)^T x``."""
        m = self.dense(x.shape[-1], x.dtype, x.device)[i]
        return x @ m

    def orbit(self, x: Tensor) -> Tensor:
        """``(|G|, ..., D)``: every ``rho(g) x``."""
        m = self.dense(x.shape[-1], x.dtype, x.device)
        return torch.einsum("gij,...j->g...i", m, x)


def _rotation(theta: float) -> Tensor:
    c, s = math.cos(theta), math.sin(theta)
    # exact zeros / ones for multiples of pi/2 keep C4 exactly representable
    c, s = (
        (round(c) if abs(c - round(c)) < 1e-12 else c),
        (round(s) if abs(s - round(s)) < 1e-12 else s),
    )
    return torch.tensor([[c, -s], [s, c]], dtype=torch.float64)


@dataclass(frozen=True)
class _PointGroup(Group):
    def dense(self, features: int, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
        if features % 2 != 0 or features < 2:
            raise UserError(
                f"group: {self.name} acts on points of R^2, so features must be even, "
                f"got {features}"
            )
        k = features // 2
        eye = torch.eye(k, dtype=torch.float64)
        mats = torch.stack([torch.kron(eye, m) for m in self.point_matrices()])
        return mats.to(dtype=dtype, device=device)


@dataclass(frozen=True)
class C(_PointGroup):
    """Cyclic group of ``n`` rotations of the plane."""

    n: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or self.n < 1:
            raise UserError(f"n: the cyclic group needs n >= 1, got {self.n!r}")
        object.__setattr__(self, "name", f"C{self.n}")
        object.__setattr__(self, "rotation_only", True)

    def point_matrices(self) -> Tensor:
        return torch.stack([_rotation(2 * math.pi * j / self.n) for j in range(self.n)])


@dataclass(frozen=True)
class D(_PointGroup):
    """Dihedral group: ``n`` rotations and ``n`` reflections of the plane (order ``2n``)."""

    n: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or self.n < 1:
            raise UserError(f"n: the dihedral group needs n >= 1, got {self.n!r}")
        object.__setattr__(self, "name", f"D{self.n}")

    def point_matrices(self) -> Tensor:
        flip = torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
        rots = [_rotation(2 * math.pi * j / self.n) for j in range(self.n)]
        return torch.stack(rots + [r @ flip for r in rots])


@dataclass(frozen=True)
class Flip(_PointGroup):
    """Reflection of the plane across the vertical axis, ``(x, y) -> (-x, y)``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", "Flip")

    def point_matrices(self) -> Tensor:
        return torch.tensor(
            [[[1.0, 0.0], [0.0, 1.0]], [[-1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64
        )


@dataclass(frozen=True)
class Perm(Group):
    """All permutations of ``n`` blocks (the data is ``(n, d)`` flattened, ``D = n d``)."""

    n: int = 3

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or self.n < 1:
            raise UserError(f"n: Perm needs n >= 1, got {self.n!r}")
        if math.factorial(self.n) > 720:
            raise UserError(
                f"n: Perm({self.n}) has {math.factorial(self.n)} elements; group averaging "
                "is limited to n! <= 720 (n <= 6): use a DeepSets layer instead"
            )
        object.__setattr__(self, "name", f"Perm{self.n}")
        object.__setattr__(self, "permutes_entries", True)

    def point_matrices(self) -> Tensor:
        eye = torch.eye(self.n, dtype=torch.float64)
        return torch.stack([eye[list(p)] for p in itertools.permutations(range(self.n))])

    def dense(self, features: int, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
        if features % self.n != 0:
            raise UserError(
                f"group: Perm({self.n}) permutes {self.n} blocks, so features must be a "
                f"multiple of {self.n}, got {features}"
            )
        eye = torch.eye(features // self.n, dtype=torch.float64)
        return torch.stack([torch.kron(p, eye) for p in self.point_matrices()]).to(
            dtype=dtype, device=device
        )


@dataclass(frozen=True)
class ImageC4(Group):
    """Rotations by 90 degrees of square ``(C, H, W)`` images."""

    shape: tuple[int, int, int] = (1, 8, 8)

    def __post_init__(self) -> None:
        if len(self.shape) != 3 or self.shape[1] != self.shape[2]:
            raise UserError(f"shape: image groups need square (C, H, W) images, got {self.shape}")
        object.__setattr__(self, "name", type(self).__name__)
        object.__setattr__(self, "permutes_entries", True)

    def _ops(self) -> list:
        return [lambda t, k=k: torch.rot90(t, k, dims=(-2, -1)) for k in range(4)]

    def point_matrices(self) -> Tensor:
        return self.dense(math.prod(self.shape), torch.float64)

    def dense(self, features: int, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
        if features != math.prod(self.shape):
            raise UserError(
                f"group: {self.name} acts on images of shape {self.shape} "
                f"({math.prod(self.shape)} features), got {features} features"
            )
        basis = torch.eye(features, dtype=torch.float64).reshape(features, *self.shape)
        # column j of rho(g) is rho(g) e_j
        mats = [op(basis).reshape(features, features).t() for op in self._ops()]
        return torch.stack(mats).to(dtype=dtype, device=device)


@dataclass(frozen=True)
class ImageD4(ImageC4):
    """Rotations by 90 degrees and reflections of square images (order 8)."""

    def _ops(self) -> list:
        rots = super()._ops()
        return rots + [lambda t, r=r: r(torch.flip(t, dims=(-1,))) for r in rots]


class Symmetrized(nn.Module):
    """``g(x) = 1/|G| sum_h rho(h)^T psi(rho(h) x)`` for ``psi: (..., D) -> (..., D)``."""

    def __init__(self, psi: nn.Module, group: Group, features: int) -> None:
        super().__init__()
        group.check(features)
        self.psi, self.group, self.features = psi, group, features
        self.register_buffer("mats", group.dense(features, torch.float64), persistent=False)

    def _mats(self, x: Tensor) -> Tensor:
        return self.mats.to(x.dtype)

    def forward(self, x: Tensor) -> Tensor:
        m = self._mats(x)
        out = self.psi(torch.einsum("gij,...j->g...i", m, x))
        return torch.einsum("gji,g...j->...i", m, out) / len(m)

    def forward_with_jacobian(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(g(x), J_g(x))`` with ``J_g = 1/|G| sum_h rho_h^T J_psi(rho_h x) rho_h``."""
        m = self._mats(x)
        out, jac = self.psi.forward_with_jacobian(torch.einsum("gij,...j->g...i", m, x))
        g = torch.einsum("gji,g...j->...i", m, out) / len(m)
        jg = torch.einsum("gai,g...ab,gbj->...ij", m, jac, m) / len(m)
        return g, jg


class Invariant(nn.Module):
    """``s(x) = 1/|G| sum_h phi(rho(h) x)``: exactly invariant."""

    def __init__(self, phi: nn.Module, group: Group, features: int) -> None:
        super().__init__()
        group.check(features)
        self.phi, self.group = phi, group
        self.register_buffer("mats", group.dense(features, torch.float64), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        m = self.mats.to(x.dtype)
        return self.phi(torch.einsum("gij,...j->g...i", m, x)).mean(0)


def symmetrize(module: nn.Module, group: Group, features: int) -> Symmetrized:
    """The group average of an ``R^D -> R^D`` module (exactly equivariant)."""
    return Symmetrized(module, group, features)


def invariant(module: nn.Module, group: Group, features: int) -> Invariant:
    """The group average of a module's output over the orbit of its input (invariant)."""
    return Invariant(module, group, features)
