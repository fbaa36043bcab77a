"""Equivariant finite normalizing flows (Bose, Brubaker & Kobyzev 2021), by group averaging.

Every layer commutes with the group, ``f(rho(g) x) = rho(g) f(x)``, and the base is
invariant, so ``log p(rho(g) x) = log p(x)`` exactly (up to float rounding):

- G-Residual: ``z = x + g(x)``, ``g = symmetrize(SN-MLP)``.
- G-Coupling: a G-invariant split (points for ``C/D/Flip`` on ``k >= 2`` points of R^2,
  channels for ``Perm``/image groups - never a checkerboard); the shift is an equivariant
  map of ``x_A``, the log-scale is equivariant elementwise where ``rho`` permutes entries and
  an invariant scalar per point otherwise.
- G-IAF: points ``x_i in R^2``, ``x_i = sigma_i z_i + mu_i`` with ``sigma_i > 0`` invariant and
  ``mu_i = sum_{j<i} a_ij z_j (+ b_ij J z_j for rotation-only groups)``, ``a, b`` invariant
  functions of the Gram matrix (and cross products) of ``z_{<i}``; ``ladj = 2 sum log sigma_i``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from papershelf.errors import UserError
from torch import Tensor, nn

from flows.distributions import DiagNormal, StudentT
from flows.flow import Flow, _check
from flows.groups import Group, Invariant, Symmetrized, _PointGroup
from flows.nn import MLP, SNMLP
from flows.transforms.base import TransformModule
from flows.transforms.residual import ResidualBlock

__all__ = [
    "GIAF",
    "EquivariantFlow",
    "GCoupling",
    "GCouplingLayer",
    "GIAFLayer",
    "GResFlow",
    "GResidualBlock",
    "invariant_mask",
]


def GResidualBlock(
    features: int,
    group: Group,
    hidden: Sequence[int] = (32, 32),
    coeff: float = 0.97,
    logdet: str = "exact",
    **kwargs,
) -> ResidualBlock:
    """A residual block whose ``g`` is the group average of a spectrally normalised MLP."""
    g = Symmetrized(SNMLP(features, features, hidden, coeff), group, features)
    return ResidualBlock(features, logdet=logdet, coeff=coeff, g=g, **kwargs)


def _preserves(mats: Tensor, mask: Tensor) -> bool:
    a, b = mask, ~mask
    return bool((mats[:, b][:, :, a].abs().max() == 0) and (mats[:, a][:, :, b].abs().max() == 0))


def invariant_mask(features: int, group: Group, parity: int = 0) -> Tensor:
    """The default G-invariant split: half of the points (point groups) or of the channels."""
    mats = group.dense(features, torch.float64)
    if isinstance(group, _PointGroup):
        k = features // 2
        if k < 2:
            raise UserError(
                f"group: a single point of R^2 has no {group.name}-invariant split; "
                "G-Coupling needs >= 2 points (use GResFlow or GIAF)"
            )
        mask = (torch.arange(k) < (k + 1) // 2).repeat_interleave(2)
    elif hasattr(group, "shape"):
        ch, h, w = group.shape
        if ch < 2:
            raise UserError("group: G-Coupling on images splits channels and needs >= 2 channels")
        mask = (torch.arange(ch) < (ch + 1) // 2).repeat_interleave(h * w)
    else:
        d = features // group.n
        if d < 2:
            raise UserError(
                f"group: G-Coupling under Perm splits each block's {d} coordinate(s); "
                "it needs blocks of >= 2 coordinates"
            )
        mask = (torch.arange(d) < (d + 1) // 2).repeat(group.n)
    mask = mask if parity % 2 == 0 else ~mask
    assert _preserves(mats, mask)
    return mask


class GCouplingLayer(TransformModule):
    """Equivariant affine coupling on a G-invariant ``mask`` (True = conditioning part ``A``)."""

    def __init__(
        self,
        features: int,
        group: Group,
        mask: Tensor | None = None,
        hidden: Sequence[int] = (64, 64),
        clamp: float = 3.0,
    ) -> None:
        super().__init__()
        self.features, self.group, self.clamp = features, group, clamp
        mask = (
            invariant_mask(features, group)
            if mask is None
            else torch.as_tensor(mask, dtype=torch.bool)
        )
        if not _preserves(group.dense(features, torch.float64), mask):
            raise UserError(
                f"mask: the split is not invariant under {group.name} (e.g. a checkerboard "
                "under 90-degree rotations); split points or channels instead"
            )
        self.register_buffer("mask", mask)
        self.shift = Symmetrized(MLP(features, features, hidden), group, features)
        self.elementwise = group.permutes_entries
        if self.elementwise:
            self.log_scale = Symmetrized(MLP(features, features, hidden), group, features)
        else:
            self.log_scale = Invariant(MLP(features, features // 2, hidden), group, features)

    def _params(self, z: Tensor) -> tuple[Tensor, Tensor]:
        m = self.mask.to(z.dtype)
        za = z * m
        t = self.shift(za) * (1 - m)
        s = self.log_scale(za)
        if not self.elementwise:
            s = s.repeat_interleave(2, dim=-1)
        s = self.clamp * torch.tanh(s / self.clamp) * (1 - m)
        return t, s

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        t, s = self._params(z)
        return z * torch.exp(s) + t, s.sum(-1)

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        t, s = self._params(x)
        return (x - t) * torch.exp(-s), -s.sum(-1)

    def equivariant_under(self, group: object) -> bool:
        return group == self.group


class GIAFLayer(TransformModule):
    """Equivariant IAF over ``k = D/2`` points of R^2 under a point group."""

    def __init__(
        self, features: int, group: Group, hidden: Sequence[int] = (32, 32), clamp: float = 3.0
    ) -> None:
        super().__init__()
        if not isinstance(group, _PointGroup):
            raise UserError(
                f"group: G-IAF needs a point group of R^2 (C, D, Flip), got {group.name}; "
                "an autoregressive order cannot be permutation-equivariant"
            )
        group.check(features)
        self.features, self.group, self.clamp = features, group, clamp
        self.k = features // 2
        self.cross = group.rotation_only
        self.log_sigma0 = nn.Parameter(torch.zeros(()))
        nets = []
        for i in range(1, self.k):
            n_in = i * (i + 1) // 2 + (i * (i - 1) // 2 if self.cross else 0)
            n_out = 1 + i * (2 if self.cross else 1)
            nets.append(MLP(n_in, n_out, hidden, activation=nn.Tanh))
        self.nets = nn.ModuleList(nets)

    def _coeffs(self, prev: Tensor, i: int) -> tuple[Tensor, Tensor, Tensor | None]:
        """``prev: (..., i, 2)`` -> ``log sigma (...,)``, ``a (..., i)``, ``b (..., i)``."""
        gram = prev @ prev.transpose(-1, -2)
        iu = torch.triu_indices(i, i)
        feats = [gram[..., iu[0], iu[1]]]
        if self.cross and i > 1:
            cr = (
                prev[..., :, None, 0] * prev[..., None, :, 1]
                - prev[..., :, None, 1] * prev[..., None, :, 0]
            )
            ju = torch.triu_indices(i, i, 1)
            feats.append(cr[..., ju[0], ju[1]])
        out = self.nets[i - 1](torch.cat(feats, -1))
        log_sigma = self.clamp * torch.tanh(out[..., 0] / self.clamp)
        a = out[..., 1 : 1 + i]
        b = out[..., 1 + i :] if self.cross else None
        return log_sigma, a, b

    def _mu(self, prev: Tensor, a: Tensor, b: Tensor | None) -> Tensor:
        mu = (a.unsqueeze(-1) * prev).sum(-2)
        if b is not None:
            rot = torch.stack(
                [-prev[..., 1], prev[..., 0]], -1
            )  # J z_j, J = rotation by 90 degrees
            mu = mu + (b.unsqueeze(-1) * rot).sum(-2)
        return mu

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        pts = z.unflatten(-1, (self.k, 2))
        outs = [pts[..., 0, :] * self.log_sigma0.exp()]
        ladj = self.log_sigma0.expand(z.shape[:-1]) * 2
        for i in range(1, self.k):
            prev = pts[..., :i, :]
            log_sigma, a, b = self._coeffs(prev, i)
            outs.append(pts[..., i, :] * log_sigma.exp().unsqueeze(-1) + self._mu(prev, a, b))
            ladj = ladj + 2 * log_sigma
        return torch.stack(outs, -2).flatten(-2), ladj

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        pts = x.unflatten(-1, (self.k, 2))
        zs = [pts[..., 0, :] * torch.exp(-self.log_sigma0)]
        ladj = -self.log_sigma0.expand(x.shape[:-1]) * 2
        for i in range(1, self.k):
            prev = torch.stack(zs, -2)
            log_sigma, a, b = self._coeffs(prev, i)
            zs.append((pts[..., i, :] - self._mu(prev, a, b)) * torch.exp(-log_sigma).unsqueeze(-1))
            ladj = ladj - 2 * log_sigma
        return torch.stack(zs, -2).flatten(-2), ladj

    def equivariant_under(self, group: object) -> bool:
        return group == self.group


class EquivariantFlow(Flow):
    """A flow whose every layer is checked to commute with ``group`` and whose base is invariant."""

    def __init__(
        self, transforms: Sequence[TransformModule], group: Group, base: nn.Module | None = None
    ) -> None:
        if len(transforms) < 1:
            raise UserError("transforms: a flow needs at least one transform")
        features = transforms[0].features
        group.check(features)
        for t in transforms:
            if not t.equivariant_under(group):
                raise UserError(
                    f"transforms: {type(t).__name__} is not {group.name}-equivariant (LU, permutations "
                    "and per-coordinate ActNorm break the symmetry); use G-layers or ActNorm(isotropic=True)"
                )
        base = DiagNormal(features) if base is None else base
        ok = (isinstance(base, DiagNormal) and not base.loc.requires_grad) or (
            isinstance(base, StudentT) and base.mode != "per_dim" and group.permutes_entries
        )
        if not ok:
            raise UserError(
                f"base: must be invariant under {group.name}: use DiagNormal(features) "
                "(standard, not trainable), or a shared-df StudentT for permutation groups"
            )
        super().__init__(transforms, base)
        self.group = group


class GResFlow(EquivariantFlow):
    """G-Residual flow: ``transforms`` group-averaged invertible residual blocks."""

    def __init__(
        self,
        features: int,
        group: Group,
        transforms: int = 4,
        hidden: Sequence[int] = (32, 32),
        coeff: float = 0.97,
        logdet: str = "exact",
        base: nn.Module | None = None,
        **kwargs,
    ) -> None:
        _check(features, transforms)
        layers = [
            GResidualBlock(features, group, hidden, coeff, logdet, **kwargs)
            for _ in range(transforms)
        ]
        super().__init__(layers, group, base)


class GCoupling(EquivariantFlow):
    """G-Coupling flow: equivariant affine couplings on alternating invariant splits."""

    def __init__(
        self,
        features: int,
        group: Group,
        transforms: int = 4,
        hidden: Sequence[int] = (64, 64),
        base: nn.Module | None = None,
    ) -> None:
        _check(features, transforms)
        layers = [
            GCouplingLayer(features, group, invariant_mask(features, group, i), hidden)
            for i in range(transforms)
        ]
        super().__init__(layers, group, base)


class GIAF(EquivariantFlow):
    """G-IAF flow over ``D/2`` points of R^2, reversing the point order between layers."""

    def __init__(
        self,
        features: int,
        group: Group,
        transforms: int = 4,
        hidden: Sequence[int] = (32, 32),
        base: nn.Module | None = None,
    ) -> None:
        _check(features, transforms)
        layers: list[TransformModule] = []
        for i in range(transforms):
            layers.append(GIAFLayer(features, group, hidden))
            if i < transforms - 1:
                layers.append(PointReverse(features, group))
        super().__init__(layers, group, base)


class PointReverse(TransformModule):
    """Reverse the order of the points (commutes with any group acting identically on each)."""

    def __init__(self, features: int, group: Group) -> None:
        super().__init__()
        self.features, self.group = features, group

    def _rev(self, x: Tensor) -> Tensor:
        return x.unflatten(-1, (-1, 2)).flip(-2).flatten(-2)

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return self._rev(z), z.new_zeros(z.shape[:-1])

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return self._rev(x), x.new_zeros(x.shape[:-1])

    def equivariant_under(self, group: object) -> bool:
        return isinstance(group, _PointGroup)
