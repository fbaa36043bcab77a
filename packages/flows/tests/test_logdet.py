"""Log-det estimators: Russian roulette is unbiased, the truncated power series is biased."""

from __future__ import annotations

import math

import torch
from flows import logdet


def _contraction(d: int = 3, norm: float = 0.8) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return a / torch.linalg.matrix_norm(a, ord=2) * norm


def test_russian_roulette_is_unbiased_and_series_is_biased():
    """Mean of 10^4 draws (D=3) within 3 standard errors of the exact log det."""
    jac = _contraction()
    exact = float(logdet.exact(jac))
    gen = torch.Generator().manual_seed(1)
    n = 10_000
    v = (torch.randint(0, 2, (n, 3), generator=gen) * 2 - 1).double()
    vjp = lambda w: w @ jac  # noqa: E731
    draws = torch.stack(
        [
            logdet.russian_roulette(vjp, v[i : i + 1], p=0.5, n_exact_terms=2, generator=gen)[0]
            for i in range(n)
        ]
    )
    mean, se = float(draws.mean()), float(draws.std() / math.sqrt(n))
    assert abs(mean - exact) < 3 * se, (mean, exact, se)
    series = logdet.power_series(vjp, v, n_terms=1)
    s_mean, s_se = float(series.mean()), float(series.std() / math.sqrt(n))
    torch.testing.assert_close(
        torch.tensor(s_mean, dtype=torch.float64), torch.trace(jac), atol=4 * s_se, rtol=0
    )
    assert abs(s_mean - exact) > 5 * s_se  # the truncation bias is far above the noise
