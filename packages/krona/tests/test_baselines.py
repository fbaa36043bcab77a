"""The LoRA baseline against its explicit formula."""

from __future__ import annotations

import torch
from krona import naive
from krona.baselines import LoRALinear
from torch import nn


def test_lora_layer_matches_formula_and_starts_at_base():
    torch.manual_seed(0)
    base = nn.Linear(10, 6)
    layer = LoRALinear(base, r=2, alpha=4.0)
    x = torch.randn(3, 10)
    assert torch.equal(layer(x), base(x))
    with torch.no_grad():
        layer.lora_B.normal_()
    expected = base(x) + 2.0 * naive.lora_linear(x, layer.lora_A, layer.lora_B)
    torch.testing.assert_close(layer(x), expected)
    torch.testing.assert_close(layer.delta_weight(), 2.0 * layer.lora_B @ layer.lora_A)
    assert sum(p.numel() for n, p in layer.named_parameters() if p.requires_grad) == 2 * (10 + 6)
