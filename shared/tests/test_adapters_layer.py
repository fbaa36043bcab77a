"""papershelf.adapters.layer: AdapterLayer's forward, merge/unmerge, disabled flag."""

from __future__ import annotations

import math

import pytest
import torch
from papershelf import UserError
from papershelf.adapters import disabled_adapters, inject_adapters
from papershelf.adapters.testing import Block, ToyLoRA
from torch import nn


def test_forward_is_base_plus_delta_and_merge_matches():
    torch.manual_seed(0)
    layer = ToyLoRA(nn.Linear(8, 6))
    x = torch.randn(5, 8)
    # oracle: explicit dense formula W0 x + b + ΔW x
    expected = x @ (layer.base_layer.weight + layer.delta_weight()).T + layer.base_layer.bias
    y = layer(x)
    torch.testing.assert_close(y, expected, atol=1e-5, rtol=1e-5)
    assert (layer.in_features, layer.out_features) == (8, 6)
    assert layer.get_base_layer() is layer.base_layer and layer.bias is layer.base_layer.bias
    w0 = layer.base_layer.weight.clone()
    layer.merge()
    assert layer.merged
    torch.testing.assert_close(layer(x), y, atol=1e-5, rtol=1e-5)
    with pytest.raises(UserError, match="already merged"):
        layer.merge()
    layer.unmerge()
    torch.testing.assert_close(layer.base_layer.weight, w0, atol=1e-6, rtol=0)
    with pytest.raises(UserError, match="not merged"):
        layer.unmerge()


def test_base_layer_is_frozen_and_adapter_state_dict_is_the_rest():
    layer = ToyLoRA(nn.Linear(4, 4))
    assert not any(p.requires_grad for p in layer.base_layer.parameters())
    assert set(layer.adapter_state_dict()) == {"lora_A.weight", "lora_B.weight"}
    other = ToyLoRA(nn.Linear(4, 4))
    other.load_adapter_state_dict(layer.adapter_state_dict())
    assert torch.equal(other.lora_A.weight, layer.lora_A.weight)
    with pytest.raises(UserError, match="unexpected key 'nope'"):
        other.load_adapter_state_dict({"nope": torch.zeros(1)})
    with pytest.raises(UserError, match=r"has shape \(3,\), expected"):
        other.load_adapter_state_dict({"lora_A.weight": torch.zeros(3)})


def test_safe_merge_refuses_nan():
    layer = ToyLoRA(nn.Linear(8, 8))
    with torch.no_grad():
        layer.lora_A.weight[0, 0] = math.nan
    with pytest.raises(UserError, match="NaN"):
        layer.merge(safe_merge=True)
    assert not layer.merged


def test_non_linear_base_is_refused():
    with pytest.raises(UserError, match=r"only nn.Linear"):
        ToyLoRA(nn.Conv1d(2, 2, 1))  # type: ignore[arg-type]


def test_disabled_adapters_give_the_base_output_and_are_restored():
    torch.manual_seed(0)
    model = Block(8)
    reference = Block(8)
    reference.load_state_dict(model.state_dict())
    layers = inject_adapters(model, ["query", "value"], lambda name, lin: ToyLoRA(lin))
    x = torch.randn(3, 8)
    adapted = model(x)
    with pytest.raises(RuntimeError), disabled_adapters(layers.values()):
        assert torch.equal(model(x), reference(x))
        raise RuntimeError
    assert not any(layer.disabled for layer in layers.values())
    assert torch.equal(model(x), adapted) and not torch.allclose(adapted, reference(x))
