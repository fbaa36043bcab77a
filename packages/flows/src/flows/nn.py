"""Conditioner networks: a plain MLP, MADE, spectrally normalised linear layers, LipSwish.

Shapes: every network maps ``(..., in_features) -> (..., out_features)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from torch import Tensor, nn

__all__ = ["MADE", "MLP", "SNMLP", "LipSwish", "MaskedLinear", "SNLinear"]


class MLP(nn.Sequential):
    """``in -> hidden... -> out`` with ReLU (or ``activation``) between layers."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (64, 64),
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        layers: list[nn.Module] = []
        sizes = [in_features, *hidden, out_features]
        for i, (a, b) in enumerate(itertools.pairwise(sizes)):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(activation())
        super().__init__(*layers)


class MaskedLinear(nn.Linear):
    """``y = (W * mask) x + b`` with a fixed 0/1 ``mask: (out, in)``."""

    def __init__(self, mask: Tensor) -> None:
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """Masked autoencoder for distribution estimation (Germain et al. 2015).

    Output ``(..., features, params)``: the parameters of feature ``i`` (in ``order``)
    depend only on inputs earlier in the order and on the context (appended last).

    Degrees: inputs ``1..D`` (by ``order``); hidden units cycle through ``[1, D-1]`` and
    see inputs of degree ``<=`` their own; an output of degree ``d`` sees hidden units of
    degree ``< d``. Context inputs have degree 0 (seen by every hidden unit).
    """

    def __init__(
        self,
        features: int,
        params: int,
        context: int = 0,
        hidden: Sequence[int] = (64, 64),
        order: Tensor | None = None,
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        if features < 1:
            raise UserError(f"features: must be >= 1, got {features}")
        self.features, self.params, self.context = features, params, context
        order = torch.arange(features) if order is None else torch.as_tensor(order)
        deg_in = torch.cat([order + 1, torch.zeros(context, dtype=torch.long)])
        degrees = [deg_in]
        top = max(features - 1, 1)
        for h in hidden:
            degrees.append(
                torch.arange(h) % top + 1 if features > 1 else torch.ones(h, dtype=torch.long)
            )
        deg_out = (order + 1).repeat_interleave(params)
        layers: list[nn.Module] = []
        for i in range(len(hidden)):
            mask = degrees[i + 1][:, None] >= degrees[i][None, :]
            layers += [MaskedLinear(mask), activation()]
        layers.append(MaskedLinear(deg_out[:, None] > degrees[-1][None, :]))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).unflatten(-1, (self.features, self.params))


class LipSwish(nn.Module):
    """``x * sigmoid(beta x) / 1.1``, 1-Lipschitz for any ``beta > 0`` (Chen et al. 2019)."""

    def __init__(self) -> None:
        super().__init__()
        self.raw_beta = nn.Parameter(torch.tensor(0.5413))  # softplus -> 1.0

    def forward(self, x: Tensor) -> Tensor:
        beta = F.softplus(self.raw_beta)
        return x * torch.sigmoid(beta * x) / 1.1

    def derivative(self, x: Tensor) -> Tensor:
        return self.value_and_derivative(x)[1]

    def value_and_derivative(self, x: Tensor) -> tuple[Tensor, Tensor]:
        beta = F.softplus(self.raw_beta)
        bx = beta * x
        s = torch.sigmoid(bx)
        xs = x * s
        return xs / 1.1, (s + bx * (s - s * s)) / 1.1


class SNLinear(nn.Linear):
    """Linear layer with spectral normalisation: ``W <- W / max(1, sigma/coeff)``.

    ``sigma`` is estimated by power iteration on buffers ``u, v`` (50 steps at init, then
    ``n_power_iter`` steps each time a training flow builds its distribution, see
    ``Flow.forward``), so ``sigma_max(W_sn) <= coeff`` up to the estimate and the map is the
    same function for every call within one step.
    """

    def __init__(
        self, in_features: int, out_features: int, coeff: float = 0.97, n_power_iter: int = 1
    ) -> None:
        super().__init__(in_features, out_features)
        if not 0 < coeff < 1:
            raise UserError(f"coeff: must be in (0, 1), got {coeff}")
        self.coeff, self.n_power_iter = coeff, n_power_iter
        self.register_buffer("u", F.normalize(torch.randn(out_features), dim=0))
        self.register_buffer("v", F.normalize(torch.randn(in_features), dim=0))
        self.power_iteration(50)

    @torch.no_grad()
    def power_iteration(self, n: int) -> None:
        w = self.weight
        u, v = self.u, self.v
        for _ in range(n):
            v = F.normalize(w.t() @ u, dim=0)
            u = F.normalize(w @ v, dim=0)
        self.u.copy_(u)
        self.v.copy_(v)

    def normalized_weight(self) -> Tensor:
        sigma = self.u @ self.weight @ self.v
        return self.weight / torch.clamp(sigma / self.coeff, min=1.0)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.normalized_weight(), self.bias)


class SNMLP(nn.Module):
    """Spectrally normalised MLP with LipSwish, ``Lip <= coeff`` (for residual blocks).

    ``forward_with_jacobian`` returns the output and the exact Jacobian
    ``(..., out, in)`` by the chain rule ``J = W_L diag(a'_{L-1}) ... diag(a'_1) W_1``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (32, 32),
        coeff: float = 0.97,
        n_power_iter: int = 1,
    ) -> None:
        super().__init__()
        sizes = [in_features, *hidden, out_features]
        self.linears = nn.ModuleList(
            SNLinear(a, b, coeff, n_power_iter) for a, b in itertools.pairwise(sizes)
        )
        self.acts = nn.ModuleList(LipSwish() for _ in hidden)

    def forward(self, x: Tensor) -> Tensor:
        for i, lin in enumerate(self.linears):
            x = lin(x)
            if i < len(self.acts):
                x = self.acts[i](x)
        return x

    def forward_with_jacobian(self, x: Tensor) -> tuple[Tensor, Tensor]:
        jac: Tensor | None = None
        for i, lin in enumerate(self.linears):
            w = lin.normalized_weight()
            x = F.linear(x, w, lin.bias)
            jac = w.expand(*x.shape[:-1], *w.shape) if jac is None else w @ jac
            if i < len(self.acts):
                x, deriv = self.acts[i].value_and_derivative(x)
                jac = deriv.unsqueeze(-1) * jac
        assert jac is not None
        return x, jac

    def lipschitz_bound(self) -> float:
        """Product of the layers' spectral norms (exact SVD; LipSwish is 1-Lipschitz)."""
        with torch.no_grad():
            bound = 1.0
            for lin in self.linears:
                bound *= float(torch.linalg.matrix_norm(lin.normalized_weight(), ord=2))
        return bound
