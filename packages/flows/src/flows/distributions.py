"""Bases and the flow distribution.

- :class:`FlowDistribution` (``transform``, ``base``): ``log_prob(x) = log p_Z(f^{-1}(x)) +
  ladj_inv(x)``, ``rsample = f(z)``, ``z ~ base``.
- :class:`DiagNormal` (module): ``N(loc, diag(scale^2))``, fixed standard by default.
- :class:`StudentT` (module): product of univariate Student-t with learnable degrees of
  freedom, shared (TAF) or per dimension (gTAF): ``nu = df_min + exp(theta)`` (default) or
  ``df_min + softplus(theta)``.
- :class:`StudentTProduct` (distribution): ``log t_nu(z) = lgamma((nu+1)/2) - lgamma(nu/2)
  - log(nu pi)/2 - (nu+1)/2 log(1 + z^2/nu)`` summed over the ``D`` features; sampled as
  ``N / sqrt(chi2_nu / nu)`` with the ``chi2`` draw clamped away from 0.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from torch import Size, Tensor, nn
from torch.distributions import Distribution, Independent, Normal, constraints

from flows.transforms.base import FlowTransform, _check_features

__all__ = ["DiagNormal", "FlowDistribution", "StudentT", "StudentTProduct"]


class FlowDistribution(Distribution):
    """The push-forward of ``base`` (event ``(D,)``) by ``transform`` (generative ``z -> x``)."""

    arg_constraints: ClassVar[dict] = {}
    has_rsample = True

    def __init__(self, transform: FlowTransform, base: Distribution) -> None:
        self.transform, self.base = transform, base
        super().__init__(base.batch_shape, base.event_shape, validate_args=False)

    @property
    def support(self):
        return constraints.real_vector

    def _check(self, x: Tensor) -> None:
        d = self.event_shape[-1]
        if x.ndim < 1 or x.shape[-1] != d:
            raise UserError(f"x: the flow has {d} features but x has shape {tuple(x.shape)}")

    def log_prob(self, x: Tensor) -> Tensor:
        """``x: (..., D) -> (...)``."""
        self._check(x)
        z, ladj = self.transform.inv.call_and_ladj(x)
        return self.base.log_prob(z) + ladj

    def rsample(self, sample_shape: Size | tuple = ()) -> Tensor:
        z = self.base.rsample(Size(sample_shape))
        return self.transform(z)

    def sample(self, sample_shape: Size | tuple = ()) -> Tensor:
        with torch.no_grad():
            return self.rsample(sample_shape)

    def rsample_and_log_prob(self, sample_shape: Size | tuple = ()) -> tuple[Tensor, Tensor]:
        """``(x, log p(x))`` in one generative pass: ``log p_Z(z) - ladj_fwd(z)``."""
        z = self.base.rsample(Size(sample_shape))
        lp = self.base.log_prob(z)
        x, ladj = self.transform.call_and_ladj(z)
        return x, lp - ladj

    def expand(self, batch_shape: Size | tuple, _instance=None) -> FlowDistribution:
        return FlowDistribution(self.transform, self.base.expand(Size(batch_shape)))


class DiagNormal(nn.Module):
    """``N(loc, diag(scale^2))`` on ``(D,)``; ``trainable=False`` keeps ``N(0, I)`` (isotropic,
    invariant under every orthogonal group)."""

    def __init__(self, features: int, trainable: bool = False) -> None:
        super().__init__()
        _check_features(features)
        self.features = features
        self.loc = nn.Parameter(torch.zeros(features), requires_grad=trainable)
        self.log_scale = nn.Parameter(torch.zeros(features), requires_grad=trainable)

    def forward(self, c: Tensor | None = None) -> Distribution:
        return Independent(
            Normal(self.loc, self.log_scale.exp(), validate_args=False), 1, validate_args=False
        )


class StudentTProduct(Distribution):
    """``prod_i t_{nu_i}(z_i)`` on ``(D,)``; ``df: (D,)`` (broadcast from a shared value)."""

    arg_constraints: ClassVar[dict] = {"df": constraints.positive}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, df: Tensor, batch_shape: Size | tuple = ()) -> None:
        self.df = df
        super().__init__(Size(batch_shape), Size(df.shape[-1:]), validate_args=False)

    def log_prob(self, z: Tensor) -> Tensor:
        nu = self.df
        const = torch.lgamma((nu + 1) / 2) - torch.lgamma(nu / 2) - 0.5 * torch.log(nu * math.pi)
        return (const - (nu + 1) / 2 * torch.log1p(z**2 / nu)).sum(-1)

    def rsample(self, sample_shape: Size | tuple = ()) -> Tensor:
        shape = Size(sample_shape) + self.batch_shape + self.event_shape
        nu = self.df.expand(shape)
        normal = torch.randn(shape, dtype=nu.dtype, device=nu.device)
        chi2 = torch.distributions.Chi2(nu).rsample()  # reparameterised in nu
        chi2 = chi2.clamp_min(torch.finfo(nu.dtype).tiny ** 0.5)
        return normal * torch.rsqrt(chi2 / nu)

    def expand(self, batch_shape: Size | tuple, _instance=None) -> StudentTProduct:
        return StudentTProduct(self.df, batch_shape)

    @property
    def mean(self) -> Tensor:
        return torch.where(self.df > 1, 0.0, float("nan")).expand(
            self.batch_shape + self.event_shape
        )


DF_PARAMS = ("log", "softplus")


class StudentT(nn.Module):
    """Student-t base with learnable degrees of freedom (tails paper, TAF / gTAF).

    Args:
        features: D.
        df: ``"shared"`` (one nu, TAF), ``"per_dim"`` (one per feature, gTAF) or a fixed
            positive number.
        df_init: initial nu (> df_min). df_min: lower bound of nu (> 0).
        df_param: ``"log"`` (``nu = df_min + exp(theta)``) or ``"softplus"``.
    """

    def __init__(
        self,
        features: int,
        df: str | float = "shared",
        df_init: float = 10.0,
        df_min: float = 0.5,
        df_param: str = "log",
    ) -> None:
        super().__init__()
        _check_features(features)
        if not df_min > 0:
            raise UserError(f"df_min: must be > 0, got {df_min}")
        if df_param not in DF_PARAMS:
            raise UserError(f"df_param: must be 'log' or 'softplus', got {df_param!r}")
        self.features, self.df_min, self.df_param = features, float(df_min), df_param
        if isinstance(df, str):
            if df not in ("shared", "per_dim"):
                raise UserError(f"df: must be 'shared', 'per_dim' or a number > 0, got {df!r}")
            if not df_init > df_min:
                raise UserError(f"df_init: must be > df_min={df_min}, got {df_init}")
            gap = torch.tensor(float(df_init - df_min))
            theta = gap.log() if df_param == "log" else gap + torch.log(-torch.expm1(-gap))
            n = 1 if df == "shared" else features
            self.theta = nn.Parameter(theta.repeat(n))
            self.mode = df
        else:
            if not float(df) > 0:
                raise UserError(f"df: degrees of freedom must be > 0, got {df}")
            self.register_buffer("fixed_df", torch.tensor([float(df)]))
            self.mode = "fixed"

    @property
    def df(self) -> Tensor:
        """The degrees of freedom, ``(D,)``."""
        if self.mode == "fixed":
            return self.fixed_df.expand(self.features)
        raw = self.theta.exp() if self.df_param == "log" else F.softplus(self.theta)
        return (self.df_min + raw).expand(self.features)

    def forward(self, c: Tensor | None = None) -> StudentTProduct:
        return StudentTProduct(self.df)
