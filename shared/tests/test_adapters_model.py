"""papershelf.adapters.model: the AdapterModel template, through the toy LoRA method."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from papershelf import UserError
from papershelf.adapters import (
    ADAPTER_CONFIG_NAME,
    AdapterModel,
    deprecated_alias,
    inject_adapters,
    mark_only_adapters_trainable,
)
from papershelf.adapters.testing import (
    Block,
    ToyLoRA,
    ToyLoRAConfig,
    ToyLoRAModel,
    toy_encoder,
)
from torch import nn

CONFIG = ToyLoRAConfig(target_modules=["query", "value"], modules_to_save=["classifier"])


def wrapped(seed: int = 0, config: ToyLoRAConfig = CONFIG) -> ToyLoRAModel:
    model = ToyLoRAModel(toy_encoder(seed), config)
    model.eval()
    return model


def test_bare_adapter_model_forwards_to_the_wrapped_model(capsys):
    torch.manual_seed(0)
    inner = Block(8)
    inject_adapters(inner, ["query"], lambda name, lin: ToyLoRA(lin))
    mark_only_adapters_trainable(inner)
    model = AdapterModel(inner)
    x = torch.randn(3, 8)
    assert torch.equal(model(x), inner(x))
    assert model.norm is inner.norm and model.get_base_model() is inner
    lora_params = 2 * 8 * 2  # lora_A (2, 8) + lora_B (8, 2)
    total = sum(p.numel() for p in inner.parameters())
    summary = model.trainable_parameter_summary()
    assert (summary.trainable, summary.total) == (lora_params, total)
    model.print_trainable_parameters()
    assert capsys.readouterr().out.strip() == str(summary)
    with pytest.raises(AttributeError):
        model.no_such_attribute  # noqa: B018


def test_template_injects_freezes_and_checks_its_input():
    model = wrapped()
    assert sorted(model.adapter_layers()) == [
        f"layers.{i}.{p}" for i in range(2) for p in ("query", "value")
    ]
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert all(".lora_" in n or ".classifier." in n for n in trainable)
    assert model.adapter_config is CONFIG and not model.merged
    with pytest.raises(UserError, match="config: expected a ToyLoRAConfig, got dict"):
        ToyLoRAModel(toy_encoder(), {"r": 2})
    with pytest.raises(UserError, match="already holds adapter layers"):
        ToyLoRAModel(model.model, CONFIG)
    with pytest.raises(UserError, match="already holds adapter layers"):
        ToyLoRAModel(model, CONFIG)


def test_prefix_is_enforced():
    class Odd(ToyLoRA):
        def __init__(self, base, config):
            super().__init__(base, config)
            self.extra = nn.Parameter(torch.zeros(1))

    class OddModel(ToyLoRAModel):
        layer_class = Odd

    with pytest.raises(TypeError, match=r"'extra' does not start with the adapter prefix 'lora_'"):
        OddModel(toy_encoder(), CONFIG)


def test_merge_unmerge_merge_and_unload_unload():
    model = wrapped()
    x = torch.randn(4, 8)
    with torch.no_grad():
        y = model(x)
        w0 = model.model.layers[0].query.base_layer.weight.clone()
        model.merge_adapter(safe_merge=True)
        assert model.merged
        torch.testing.assert_close(model(x), y, atol=1e-5, rtol=1e-5)
        with pytest.raises(UserError, match="already merged; call unmerge_adapter"):
            model.merge_adapter()
        model.unmerge_adapter()
        model.unmerge_adapter()  # nothing merged: a no-op
        torch.testing.assert_close(model.model.layers[0].query.base_layer.weight, w0)
        plain = model.merge_and_unload()
        assert type(plain.layers[0].query) is nn.Linear
        torch.testing.assert_close(plain(x), y, atol=1e-5, rtol=1e-5)
    base = wrapped().unload()
    assert not any(isinstance(m, ToyLoRA) for m in base.modules())
    torch.testing.assert_close(base(x), toy_encoder(0)(x))


def test_disable_adapter_runs_the_base_model():
    model = wrapped()
    x = torch.randn(3, 8)
    reference = toy_encoder(0)
    with torch.no_grad(), model.disable_adapter() as same:
        assert same is model
        torch.testing.assert_close(model(x), reference(x))
    with torch.no_grad():
        assert not torch.allclose(model(x), reference(x))
    model.merge_adapter()
    with pytest.raises(UserError, match="merged; call unmerge_adapter"), model.disable_adapter():
        pass


def test_save_pretrained_from_pretrained_round_trip(tmp_path):
    model = wrapped(0, ToyLoRAConfig(r=3, target_modules=["query"], modules_to_save=["classifier"]))
    with torch.no_grad():
        model.model.classifier.weight.add_(1.0)
    for p in model.parameters():  # compared frozen, as the loaded copy is
        p.requires_grad_(False)
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / ADAPTER_CONFIG_NAME).read_text())
    assert saved["adapter_type"] == "toy-lora" and saved["r"] == 3
    assert saved["target_shapes"] == {"layers.0.query": [8, 8], "layers.1.query": [8, 8]}
    assert "library_version" in saved and saved["base_model_name_or_path"] is None
    torch.manual_seed(99)  # other initial adapter weights
    loaded = ToyLoRAModel.from_pretrained(toy_encoder(0), tmp_path)
    assert loaded.adapter_config == model.adapter_config
    assert ToyLoRAModel.config_from_pretrained(tmp_path) == model.adapter_config
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    x = torch.randn(2, 8)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    trainable = ToyLoRAModel.from_pretrained(toy_encoder(0), tmp_path, is_trainable=True)
    assert trainable.training and trainable.trainable_parameter_summary().trainable > 0
    model.merge_adapter()
    with pytest.raises(UserError, match="unmerge_adapter"):
        model.save_pretrained(tmp_path / "merged")


def test_from_pretrained_refuses_other_types_and_bases(tmp_path):
    wrapped().save_pretrained(tmp_path / "a")
    with pytest.raises(UserError, match=r"'layers.0.query' has shape \(out, in\)=\(16, 16\)"):
        ToyLoRAModel.from_pretrained(toy_encoder(d=16), tmp_path / "a")
    raw = json.loads((tmp_path / "a" / ADAPTER_CONFIG_NAME).read_text())
    (tmp_path / "a" / ADAPTER_CONFIG_NAME).write_text(json.dumps({**raw, "adapter_type": "x"}))
    with pytest.raises(UserError, match="holds adapter_type 'x', not 'toy-lora'"):
        ToyLoRAModel.from_pretrained(toy_encoder(), tmp_path / "a")
    (tmp_path / "a" / ADAPTER_CONFIG_NAME).write_text(json.dumps({**raw, "target_shapes": {}}))
    with pytest.raises(UserError, match="records no target_shapes"):
        ToyLoRAModel.from_pretrained(toy_encoder(), tmp_path / "a")
    (tmp_path / "a" / ADAPTER_CONFIG_NAME).write_text(json.dumps({**raw, "rank": 2}))
    with pytest.raises(UserError, match="unknown key"):
        ToyLoRAModel.from_pretrained(toy_encoder(), tmp_path / "a")


def test_export_peft_default_refuses(tmp_path):
    with pytest.raises(UserError, match="export_peft: ToyLoRAModel has no PEFT equivalent"):
        wrapped().export_peft(tmp_path)


def test_export_peft_hook_writes_tensors_config_and_modules_to_save(tmp_path):
    from safetensors.torch import load_file

    class Exportable(ToyLoRAModel):
        def _peft_adapter(self, *, tag):
            return {"base_model.model.x.lora_A.weight": torch.ones(1)}, {"peft_type": tag}

    model = Exportable(toy_encoder(), CONFIG)
    folder = model.export_peft(tmp_path / "e", tag="LORA")
    config = json.loads((folder / ADAPTER_CONFIG_NAME).read_text())
    assert config["peft_type"] == "LORA" and config["inference_mode"] is True
    assert config["modules_to_save"] == ["classifier"]
    assert set(load_file(str(folder / "adapter_model.safetensors"))) == {
        "base_model.model.x.lora_A.weight",
        "base_model.model.classifier.weight",
        "base_model.model.classifier.bias",
    }


def test_deprecated_alias_warns_and_forwards():
    class Renamed(ToyLoRAModel):
        merge = deprecated_alias("merge_adapter", "merge")

    model = Renamed(toy_encoder(), CONFIG)
    with pytest.warns(DeprecationWarning, match=r"Renamed.merge\(\) is deprecated.*merge_adapter"):
        model.merge()
    assert model.merged
    assert Renamed.merge.__name__ == "merge" and "merge_adapter" in Renamed.merge.__doc__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.unmerge_adapter()
