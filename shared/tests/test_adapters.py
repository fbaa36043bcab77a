"""papershelf.adapters: target resolution, injection, freezing, merge, save/load."""

from __future__ import annotations

import json
import math

import pytest
import torch
from papershelf import UserError
from papershelf.adapters import (
    ADAPTER_CONFIG_NAME,
    ADAPTER_WEIGHTS_NAME,
    AdapterLayer,
    AdapterModel,
    adapter_layers,
    adapter_state_dict,
    check_target_shapes,
    disabled_adapters,
    inject_adapters,
    load_adapter,
    mark_only_adapters_trainable,
    merge_and_unload,
    resolve_target_modules,
    save_adapter,
    target_shapes,
    trainable_parameter_summary,
    unload,
)
from torch import nn


class ToyLoRA(AdapterLayer):
    """A plain LoRA layer used as the test's adapter: ΔW = s·B·A."""

    def __init__(self, base: nn.Linear, r: int = 2, scale: float = 0.5) -> None:
        super().__init__(base)
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.normal_(self.lora_A.weight)
        nn.init.normal_(self.lora_B.weight)
        self.scale = scale

    def adapter_forward(self, x):
        return self.scale * self.lora_B(self.lora_A(x))

    def delta_weight(self):
        return self.scale * self.lora_B.weight @ self.lora_A.weight


class Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        return self.norm(x + self.query(x) * torch.sigmoid(self.key(x)) + self.value(x))


class Config:
    model_type = "bert"


class Toy(nn.Module):
    def __init__(self, d: int = 8, n_out: int = 3) -> None:
        super().__init__()
        self.config = Config()
        self.layers = nn.ModuleList([Block(d), Block(d)])
        self.classifier = nn.Linear(d, n_out)

    def forward(self, x):
        for block in self.layers:
            x = block(x)
        return self.classifier(x)


def toy(seed: int = 0) -> Toy:
    torch.manual_seed(seed)
    return Toy()


def add_lora(model, targets=("query", "value")):
    names = resolve_target_modules(model, list(targets))
    return inject_adapters(model, names, lambda name, lin: ToyLoRA(lin))


def test_resolve_suffix_list_regex_and_default():
    model = toy()
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
    model = toy()
    names = resolve_target_modules(model, "all-linear", modules_to_save=["classifier"])
    assert "classifier" not in names and len(names) == 6
    names = resolve_target_modules(model, "all-linear", exclude_modules=["key"])
    assert not any(n.endswith("key") for n in names)


def test_resolve_errors_are_one_line():
    model = toy()
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


def test_forward_is_base_plus_delta_and_merge_matches():
    model = toy()
    x = torch.randn(5, 8)
    layers = add_lora(model)
    assert set(layers) == {"layers.0.query", "layers.0.value", "layers.1.query", "layers.1.value"}
    layer = layers["layers.0.query"]
    # oracle: explicit dense formula W0 x + b + ΔW x
    expected = x @ (layer.base_layer.weight + layer.delta_weight()).T + layer.base_layer.bias
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)
    y = model(x)
    w0 = layer.base_layer.weight.clone()
    for lay in layers.values():
        lay.merge()
    assert layer.merged
    torch.testing.assert_close(model(x), y, atol=1e-5, rtol=1e-5)
    with pytest.raises(UserError, match="already merged"):
        layer.merge()
    layer.unmerge()
    torch.testing.assert_close(layer.base_layer.weight, w0, atol=1e-6, rtol=0)
    with pytest.raises(UserError, match="not merged"):
        layer.unmerge()


def test_merge_and_unload_leaves_plain_linear_with_same_output():
    model = toy()
    add_lora(model)
    x = torch.randn(4, 8)
    y = model(x)
    merge_and_unload(model)
    assert not adapter_layers(model)
    assert type(model.layers[0].query) is nn.Linear
    torch.testing.assert_close(model(x), y, atol=1e-5, rtol=1e-5)


def test_unload_restores_base_model():
    model, ref = toy(), toy()
    add_lora(model)
    unload(model)
    x = torch.randn(3, 8)
    torch.testing.assert_close(model(x), ref(x))


def test_safe_merge_refuses_nan():
    model = toy()
    layer = add_lora(model)["layers.0.query"]
    with torch.no_grad():
        layer.lora_A.weight[0, 0] = math.nan
    with pytest.raises(UserError, match="NaN"):
        layer.merge(safe_merge=True)
    assert not layer.merged


def test_freezing_and_summary():
    model = toy()
    total = sum(p.numel() for p in model.parameters())
    add_lora(model)
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


def test_peft_key_names():
    model = toy()
    add_lora(model)
    keys = set(adapter_state_dict(model, ["classifier"]))
    assert "base_model.model.layers.0.query.lora_A.weight" in keys
    assert "base_model.model.layers.1.value.lora_B.weight" in keys
    assert "base_model.model.classifier.weight" in keys
    assert not any("base_layer" in k for k in keys)


def test_save_load_round_trip_is_exact(tmp_path):
    model = toy(0)
    add_lora(model)
    mark_only_adapters_trainable(model, ["classifier"])
    with torch.no_grad():
        model.classifier.weight.add_(1.0)
    save_adapter(tmp_path, model, {"kind": "toy", "shapes": target_shapes(model)}, ["classifier"])
    assert (tmp_path / ADAPTER_WEIGHTS_NAME).is_file()
    assert json.loads((tmp_path / ADAPTER_CONFIG_NAME).read_text())["kind"] == "toy"
    assert not list(tmp_path.glob("*.tmp"))

    fresh = toy(0)
    torch.manual_seed(123)  # different adapter init
    add_lora(fresh)
    config = load_adapter(tmp_path, fresh, ["classifier"])
    check_target_shapes(fresh, config["shapes"])
    for key, value in adapter_state_dict(model, ["classifier"]).items():
        assert torch.equal(adapter_state_dict(fresh, ["classifier"])[key], value), key
    x = torch.randn(2, 8)
    assert torch.equal(fresh(x), model(x))


def test_load_refuses_mismatches(tmp_path):
    model = toy()
    add_lora(model)
    save_adapter(tmp_path, model, {"shapes": target_shapes(model)})
    other = toy()
    add_lora(other, targets=("query", "key"))
    with pytest.raises(UserError, match=r"missing 4 key.*unexpected 4 key"):
        load_adapter(tmp_path, other)

    class Wide(Toy):
        def __init__(self):
            super().__init__(d=16)

    wide = Wide()
    with pytest.raises(UserError, match=r"'layers.0.query' has shape \(out, in\)=\(16, 16\)"):
        check_target_shapes(
            wide, json.loads((tmp_path / ADAPTER_CONFIG_NAME).read_text())["shapes"]
        )
    add_lora(wide)
    with pytest.raises(UserError, match="has shape"):
        load_adapter(tmp_path, wide)
    with pytest.raises(UserError, match="does not exist"):
        check_target_shapes(toy(), {"layers.7.query": [8, 8]})


def test_load_refuses_missing_files(tmp_path):
    with pytest.raises(UserError, match="is not a folder"):
        load_adapter(tmp_path / "none", toy())
    with pytest.raises(UserError, match=ADAPTER_CONFIG_NAME):
        load_adapter(tmp_path, toy())
    (tmp_path / ADAPTER_CONFIG_NAME).write_text("{")
    with pytest.raises(UserError, match="not valid JSON"):
        load_adapter(tmp_path, toy())
    (tmp_path / ADAPTER_CONFIG_NAME).write_text("{}")
    with pytest.raises(UserError, match=ADAPTER_WEIGHTS_NAME):
        load_adapter(tmp_path, toy())


def test_non_linear_base_is_refused():
    with pytest.raises(UserError, match=r"only nn.Linear"):
        ToyLoRA(nn.Conv1d(2, 2, 1))  # type: ignore[arg-type]


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


def test_adapter_model_forwards_to_the_wrapped_model(capsys):
    torch.manual_seed(0)
    inner = Block(8)
    inject_adapters(inner, ["query"], lambda name, lin: ToyLoRA(lin))
    mark_only_adapters_trainable(inner)
    wrapped = AdapterModel(inner)
    x = torch.randn(3, 8)
    assert torch.equal(wrapped(x), inner(x))
    assert wrapped.norm is inner.norm and wrapped.get_base_model() is inner
    lora_params = 2 * 8 * 2  # lora_A (2, 8) + lora_B (8, 2)
    total = sum(p.numel() for p in inner.parameters())
    summary = wrapped.trainable_parameter_summary()
    assert (summary.trainable, summary.total) == (lora_params, total)
    wrapped.print_trainable_parameters()
    assert capsys.readouterr().out.strip() == str(summary)
    with pytest.raises(AttributeError):
        wrapped.no_such_attribute  # noqa: B018


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
