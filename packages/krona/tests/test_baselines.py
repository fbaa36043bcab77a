"""The LoRA baseline (layer and product) against its explicit formula."""

from __future__ import annotations

import torch
from krona.baselines import LoRALinear, lora_linear
from krona.naive import naive_lora_linear
from torch import nn


def test_lora_layer_matches_formula_and_starts_at_base():
    torch.manual_seed(0)
    base = nn.Linear(10, 6)
    layer = LoRALinear(base, r=2, alpha=4.0)
    x = torch.randn(3, 10)
    assert torch.equal(layer(x), base(x))
    with torch.no_grad():
        layer.lora_B.normal_()
    expected = base(x) + 2.0 * naive_lora_linear(x, layer.lora_A, layer.lora_B)
    torch.testing.assert_close(layer(x), expected)
    torch.testing.assert_close(layer.delta_weight(), 2.0 * layer.lora_B @ layer.lora_A)
    assert sum(p.numel() for n, p in layer.named_parameters() if p.requires_grad) == 2 * (10 + 6)


def test_lora_product_matches_the_explicit_update():
    g = torch.Generator().manual_seed(0)
    x, lora_A, lora_B = (
        torch.randn(2, 5, 10, generator=g),
        torch.randn(3, 10, generator=g),
        torch.randn(6, 3, generator=g),
    )
    torch.testing.assert_close(lora_linear(x, lora_A, lora_B), naive_lora_linear(x, lora_A, lora_B))
