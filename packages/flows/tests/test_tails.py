"""Tail tools: Hill estimator bounds and the exact t_2 tail sampler."""

from __future__ import annotations

import pytest
import torch
from flows.tails import hill, t2_tail_sample
from papershelf.errors import UserError


def test_hill_bounds_and_tail_sampler():
    x = torch.randn(100)
    with pytest.raises(UserError, match="10 <= k < n"):
        hill(x, 5)
    with pytest.raises(UserError, match="10 <= k < n"):
        hill(x, 100)
    s = t2_tail_sample(10000, 30.0, torch.Generator().manual_seed(0))
    assert (s > 30).all()
    # P(X > 60 | X > 30) for t_2 = S(60)/S(30)
    surv = lambda v: 0.5 * (1 - v / (v * v + 2) ** 0.5)  # noqa: E731
    assert abs(float((s > 60).double().mean()) - surv(60) / surv(30)) < 0.02
