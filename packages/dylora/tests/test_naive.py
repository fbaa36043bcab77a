"""dylora.naive: the renamed oracles keep their old names for one release (with a warning)."""

from __future__ import annotations

import pytest
import torch
from dylora import naive


def test_old_names_warn_and_compute_the_old_formulas():
    gen = torch.Generator().manual_seed(0)
    x, w, bias = torch.randn(3, 4, generator=gen), torch.randn(5, 4, generator=gen), torch.randn(5)
    a, b = torch.randn(2, 4, generator=gen), torch.randn(5, 2, generator=gen)
    with pytest.warns(DeprecationWarning, match="lora_forward is deprecated"):
        lora_forward = naive.lora_forward
    expected = x @ w.T + bias + 0.5 * (x @ a.T) @ b.T
    torch.testing.assert_close(lora_forward(x, w, bias, a, b, 0.5), expected)
    with pytest.warns(DeprecationWarning, match="sqrt_trick_delta is deprecated"):
        sqrt_trick_delta = naive.sqrt_trick_delta
    torch.testing.assert_close(sqrt_trick_delta(a, b, 8.0, 4), (8.0 / 2) * b @ a)
    with pytest.raises(AttributeError):
        naive.no_such_oracle  # noqa: B018
