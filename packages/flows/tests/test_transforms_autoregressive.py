"""The masked autoregressive layer (MAF) is triangular."""

from __future__ import annotations

import torch
from flows.transforms.autoregressive import MaskedAutoregressive


def test_maf_layer_is_triangular():
    layer = MaskedAutoregressive(4, hidden=(16,)).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_()
    x = torch.randn(4, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda v: layer().inv(v[None])[0], x)
    assert torch.equal(jac.triu(1), torch.zeros_like(jac))
