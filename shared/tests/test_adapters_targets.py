"""papershelf.adapters.targets: target resolution, injection, freezing, merge/unload surgery."""

from __future__ import annotations

import pytest
import torch
from papershelf import UserError
from papershelf.adapters import (
    adapter_layers,
    check_target_shapes,
    inject_adapters,
    mark_only_adapters_trainable,
    merge_and_unload,
    resolve_target_modules,
    target_shapes,
    trainable_parameter_summary,
    unload,
)
from papershelf.adapters.testing import ToyLoRA, add_toy_lora, toy_encoder
from torch import nn


def test_resolve_suffix_list_regex_and_default():
    model = toy_encoder()
    assert resolve_target_modules(model, ["query"]) == ["layers.0.query", "layers.1.query"]
    assert resolve_target_modules(model, r"layers\.1\.(key|value)") == [
        "layers.1.key",
        "layers.1.value",
    ]
    assert resolve_target_modules(model, None) == [
        "layers.0.query",
        "layers.0.value",
        "layers.1.query",
        "layers.1.value",
    ]
    # a suffix must match a whole name component
    with pytest.raises(UserError, match=r"matched no nn.Linear"):
        resolve_target_modules(model, ["uery"])


def test_resolve_all_linear_excludes_head_and_modules_to_save():
    model = toy_encoder()
    names = resolve_target_modules(model, "all-linear", modules_to_save=["classifier"])
    assert "classifier" not in names and len(names) == 6
    names = resolve_target_modules(model, "all-linear", exclude_modules=["key"])
    assert not any(n.endswith("key") for n in names)


def test_resolve_errors_are_one_line():
    model = toy_encoder()
    with pytest.raises(UserError, match=r"nn.Linear modules found: layers\.0\.query") as err:
        resolve_target_modules(model, ["nope"])
    assert "\n" not in str(err.value)
    with pytest.raises(UserError, match=r"LayerNorm, not nn.Linear"):
        resolve_target_modules(model, ["norm"])
    with pytest.raises(UserError, match="empty"):
        resolve_target_modules(model, [])
    model.config.model_type = "mystery"
    with pytest.raises(UserError, match="no default for model_type 'mystery'"):
        resolve_target_modules(model, None)
    add_toy_lora(model)
    with pytest.raises(UserError, match="already holds an adapter"):
        resolve_target_modules(model, ["query"])


def test_injected_model_merges_to_the_same_output():
    model = toy_encoder()
    x = torch.randn(5, 8)
    layers = add_toy_lora(model)
    assert set(layers) == {"layers.0.query", "layers.0.value", "layers.1.query", "layers.1.value"}
    assert adapter_layers(model) == layers
    y = model(x)
    for lay in layers.values():
        lay.merge()
    torch.testing.assert_close(model(x), y, atol=1e-5, rtol=1e-5)


def test_merge_and_unload_leaves_plain_linear_with_same_output():
    model = toy_encoder()
    add_toy_lora(model)
    x = torch.randn(4, 8)
    y = model(x)
    merge_and_unload(model)
    assert not adapter_layers(model)
    assert type(model.layers[0].query) is nn.Linear
    torch.testing.assert_close(model(x), y, atol=1e-5, rtol=1e-5)


def test_unload_restores_base_model():
    model, ref = toy_encoder(), toy_encoder()
    add_toy_lora(model)
    unload(model)
    x = torch.randn(3, 8)
    torch.testing.assert_close(model(x), ref(x))


def test_freezing_and_summary():
    model = toy_encoder()
    total = sum(p.numel() for p in model.parameters())
    add_toy_lora(model)
    mark_only_adapters_trainable(model, modules_to_save=["classifier"])
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert all(("lora_" in n) or n.startswith("classifier.") for n in trainable)
    assert "classifier.weight" in trainable and "layers.0.query.lora_A.weight" in trainable
    n_adapter = 4 * (2 * 8 + 8 * 2)
    n_head = 8 * 3 + 3
    summary = trainable_parameter_summary(model)
    assert summary.trainable == n_adapter + n_head
    assert summary.total == total + n_adapter
    assert "trainable params: " in str(summary) and "trainable%" in str(summary)
    with pytest.raises(UserError, match="modules_to_save"):
        mark_only_adapters_trainable(model, modules_to_save=["nothing"])


def test_target_shapes_and_their_check():
    model = toy_encoder()
    add_toy_lora(model)
    shapes = target_shapes(model)
    assert shapes["layers.0.query"] == [8, 8] and len(shapes) == 4
    check_target_shapes(toy_encoder(), shapes)
    check_target_shapes(model, shapes)  # an injected model checks its base layers
    wide = toy_encoder(d=16)
    with pytest.raises(UserError, match=r"'layers.0.query' has shape \(out, in\)=\(16, 16\)"):
        check_target_shapes(wide, shapes)
    with pytest.raises(UserError, match="does not exist"):
        check_target_shapes(toy_encoder(), {"layers.7.query": [8, 8]})
    with pytest.raises(UserError, match="is a LayerNorm in this base model"):
        check_target_shapes(toy_encoder(), {"layers.0.norm": [8, 8]})


def test_hf_bert_targets():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        num_labels=2,
    )
    model = transformers.BertForSequenceClassification(cfg)
    names = resolve_target_modules(model, None)
    assert names == [
        f"bert.encoder.layer.{i}.attention.self.{p}" for i in range(2) for p in ("query", "value")
    ]
    inject_adapters(model, names, lambda n, lin: ToyLoRA(lin))
    ids = torch.randint(0, 50, (2, 7))
    model.eval()
    y = model(input_ids=ids).logits
    merge_and_unload(model)
    torch.testing.assert_close(model(input_ids=ids).logits, y, atol=1e-5, rtol=1e-5)
