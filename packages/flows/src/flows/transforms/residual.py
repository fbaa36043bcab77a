"""Invertible residual block (Behrmann et al. 2019; Chen et al. 2019).

Defined in the normalizing direction: ``z = x + g(x)`` with ``Lip(g) <= coeff < 1``
(spectrally normalised MLP with LipSwish). ``ladj_inv(x) = log det(I + J_g(x))``:
``exact`` (analytic Jacobian + slogdet; the default, for small D), ``roulette`` (unbiased,
Hutchinson + Russian roulette, ``n_exact_terms=10`` as the official EFNF code) or ``series``
(truncated, biased). When ``g`` is a group average (``g.group`` is set, e.g. a G-Residual
block) the Hutchinson noise is G-invariant: the estimator averages ``v_h^T J^k v_h`` over the
orbit ``v_h = rho(h) v`` of one Rademacher vector and shares one roulette draw, so the
estimate at ``rho(g) x`` equals the one at ``x`` (same random state) up to rounding and
the estimated density stays exactly invariant (EFNF: "invariant Hutchinson noise"). Sampling inverts by the
Banach fixed point ``x <- z - g(x)``, which converges at rate ``Lip(g)``; with the exact
log-det a final Newton step gives the fixed point its implicit-function gradients.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from papershelf.errors import UserError
from torch import Tensor, nn

from flows import logdet as _logdet
from flows.nn import SNMLP
from flows.transforms.base import TransformModule, _check_features

__all__ = ["ResidualBlock"]

LOGDETS = ("exact", "roulette", "series")


class ResidualBlock(TransformModule):
    """``z = x + g(x)``; ``g`` defaults to ``SNMLP(D, D, hidden, coeff)``.

    ``g`` may be any module with ``forward(x)`` and ``forward_with_jacobian(x) -> (g, J)``
    (``J: (..., D, D)``), e.g. a group-symmetrised MLP (see ``flows.groups.symmetrize``).
    """

    def __init__(
        self,
        features: int,
        hidden: Sequence[int] = (32, 32),
        coeff: float = 0.97,
        logdet: str = "exact",
        n_exact_terms: int = 10,
        n_series_terms: int = 5,
        p: float = 0.5,
        inverse_tol: float = 1e-8,
        max_iter: int = 500,
        g: nn.Module | None = None,
        invariant_noise: bool | None = None,
    ) -> None:
        super().__init__()
        _check_features(features)
        if logdet not in LOGDETS:
            raise UserError(f"logdet: must be one of {', '.join(LOGDETS)}, got {logdet!r}")
        if not 0 < coeff < 1:
            raise UserError(f"coeff: must be in (0, 1), got {coeff}")
        if n_exact_terms < 0:
            raise UserError(f"n_exact_terms: must be >= 0, got {n_exact_terms}")
        if not 0 < p < 1:
            raise UserError(f"p: the roulette probability must be in (0, 1), got {p}")
        if logdet == "series":
            warnings.warn(
                "logdet='series' is a biased estimator; prefer 'exact' or 'roulette'", stacklevel=2
            )
        self.features = features
        self.logdet, self.n_exact_terms, self.n_series_terms, self.p = (
            logdet,
            n_exact_terms,
            n_series_terms,
            p,
        )
        self.inverse_tol, self.max_iter = inverse_tol, max_iter
        self.g = SNMLP(features, features, hidden, coeff) if g is None else g
        group = getattr(self.g, "group", None)
        if invariant_noise and group is None:
            raise UserError("invariant_noise: needs a group-averaged g (a G-Residual block)")
        # None: G-invariant noise exactly when g is a group average
        self.invariant_noise = group is not None if invariant_noise is None else invariant_noise
        self.last_iterations = 0

    def _ladj(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(g(x), log det(I + J_g(x)))``."""
        if self.logdet == "exact":
            gx, jac = self.g.forward_with_jacobian(x)
            return gx, _logdet.exact(jac)
        create = torch.is_grad_enabled()  # the caller's mode: keep the graph iff it wants grads
        with torch.enable_grad():
            v = torch.randint(0, 2, x.shape, dtype=x.dtype, device=x.device) * 2 - 1
            mats = None
            if self.invariant_noise:
                # the orbit rho(h) v of one Rademacher vector: (|G|, ..., D), flattened so one
                # VJP (and one roulette draw) serves every h
                mats = self.g.group.dense(self.features, x.dtype, x.device)
                v = torch.einsum("gij,...j->g...i", mats, v).flatten(0, 1)
                xin = x.unsqueeze(0).expand(len(mats), *x.shape).flatten(0, 1)
            else:
                xin = x
            xr = xin if xin.requires_grad else xin.detach().requires_grad_(True)
            gx = self.g(xr)

            def vjp(w: Tensor) -> Tensor:
                return torch.autograd.grad(gx, xr, w, create_graph=create, retain_graph=True)[0]

            if self.logdet == "roulette":
                est = _logdet.russian_roulette(vjp, v, self.p, self.n_exact_terms)
            else:
                est = _logdet.power_series(vjp, v, self.n_series_terms)
            if mats is not None:
                gx = gx.unflatten(0, (len(mats), -1))[0]
                est = est.unflatten(0, (len(mats), -1)).mean(0)
        if not create:
            gx, est = gx.detach(), est.detach()
        return gx, est

    def inverse_and_ladj(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        gx, ladj = self._ladj(x)
        return x + gx, ladj

    def forward_and_ladj(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            x = z.detach().clone()
            for i in range(self.max_iter):  # noqa: B007
                step = z - self.g(x) - x
                x = x + step
                if step.abs().max() < self.inverse_tol:
                    break
            self.last_iterations = i + 1
        if self.logdet == "exact":
            # a Newton step from the detached fixed point: same value, and the implicit-function
            # gradients dx/dz = (I + J_g)^{-1}, dx/dtheta = -(I + J_g)^{-1} dg/dtheta
            gx, jac = self.g.forward_with_jacobian(x)
            eye = torch.eye(self.features, dtype=x.dtype, device=x.device)
            x = x + torch.linalg.solve(eye + jac, (z - x - gx).unsqueeze(-1)).squeeze(-1)
        else:
            x = z - self.g(x)  # one attached step: approximate gradients (dx/dz = I)
        _, ladj = self._ladj(x)
        return x, -ladj

    def equivariant_under(self, group: object) -> bool:
        return bool(getattr(self.g, "group", None) is not None and self.g.group == group)
