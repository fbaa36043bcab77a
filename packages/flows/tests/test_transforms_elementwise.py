"""Elementwise layers refuse inputs of the wrong size with one clear line."""

from __future__ import annotations

import flows
import pytest
import torch
from papershelf.errors import UserError


def test_dimension_mismatch_refused():
    with pytest.raises(UserError, match=r"expects \(\.\.\., 3\) inputs, got shape \(4, 2\)"):
        flows.transforms.Affine(3)()(torch.randn(4, 2))
