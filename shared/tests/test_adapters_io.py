"""papershelf.adapters.io: PEFT key names, the adapter folder, atomic save and strict load."""

from __future__ import annotations

import json

import pytest
import torch
from papershelf import UserError
from papershelf.adapters import (
    ADAPTER_CONFIG_NAME,
    ADAPTER_WEIGHTS_NAME,
    adapter_state_dict,
    check_target_shapes,
    load_adapter,
    mark_only_adapters_trainable,
    modules_to_save_state_dict,
    read_adapter_config,
    save_adapter,
    split_adapter_config,
    target_shapes,
    write_adapter_dir,
)
from papershelf.adapters.testing import ToyLoRAConfig, add_toy_lora, toy_encoder


def test_peft_key_names():
    model = toy_encoder()
    add_toy_lora(model)
    keys = set(adapter_state_dict(model, ["classifier"]))
    assert "base_model.model.layers.0.query.lora_A.weight" in keys
    assert "base_model.model.layers.1.value.lora_B.weight" in keys
    assert "base_model.model.classifier.weight" in keys
    assert not any("base_layer" in k for k in keys)
    assert set(modules_to_save_state_dict(model, ["classifier"])) == {
        "base_model.model.classifier.weight",
        "base_model.model.classifier.bias",
    }
    assert modules_to_save_state_dict(model, None) == {}


def test_save_load_round_trip_is_exact(tmp_path):
    model = toy_encoder(0)
    add_toy_lora(model)
    mark_only_adapters_trainable(model, ["classifier"])
    with torch.no_grad():
        model.classifier.weight.add_(1.0)
    save_adapter(tmp_path, model, {"kind": "toy", "shapes": target_shapes(model)}, ["classifier"])
    assert (tmp_path / ADAPTER_WEIGHTS_NAME).is_file()
    assert json.loads((tmp_path / ADAPTER_CONFIG_NAME).read_text())["kind"] == "toy"
    assert not list(tmp_path.glob("*.tmp"))

    fresh = toy_encoder(0)
    torch.manual_seed(123)  # different adapter init
    add_toy_lora(fresh)
    config = load_adapter(tmp_path, fresh, ["classifier"])
    check_target_shapes(fresh, config["shapes"])
    for key, value in adapter_state_dict(model, ["classifier"]).items():
        assert torch.equal(adapter_state_dict(fresh, ["classifier"])[key], value), key
    x = torch.randn(2, 8)
    assert torch.equal(fresh(x), model(x))


def test_write_adapter_dir_writes_given_tensors(tmp_path):
    folder = write_adapter_dir(tmp_path / "x", {"a": torch.ones(2)}, {"peft_type": "LORA"})
    assert read_adapter_config(folder) == {"peft_type": "LORA"}
    assert (folder / ADAPTER_WEIGHTS_NAME).is_file()


def test_load_refuses_mismatches(tmp_path):
    model = toy_encoder()
    add_toy_lora(model)
    save_adapter(tmp_path, model, {"shapes": target_shapes(model)})
    other = toy_encoder()
    add_toy_lora(other, targets=("query", "key"))
    with pytest.raises(UserError, match=r"missing 4 key.*unexpected 4 key"):
        load_adapter(tmp_path, other)
    wide = toy_encoder(d=16)
    add_toy_lora(wide)
    with pytest.raises(UserError, match="has shape"):
        load_adapter(tmp_path, wide)


def test_load_refuses_missing_files(tmp_path):
    with pytest.raises(UserError, match="is not a folder"):
        load_adapter(tmp_path / "none", toy_encoder())
    with pytest.raises(UserError, match=ADAPTER_CONFIG_NAME):
        load_adapter(tmp_path, toy_encoder())
    (tmp_path / ADAPTER_CONFIG_NAME).write_text("{")
    with pytest.raises(UserError, match="not valid JSON"):
        load_adapter(tmp_path, toy_encoder())
    (tmp_path / ADAPTER_CONFIG_NAME).write_text("[]")
    with pytest.raises(UserError, match="must hold a JSON object"):
        read_adapter_config(tmp_path)
    (tmp_path / ADAPTER_CONFIG_NAME).write_text("{}")
    with pytest.raises(UserError, match=ADAPTER_WEIGHTS_NAME):
        load_adapter(tmp_path, toy_encoder())


def test_split_adapter_config_separates_fields_and_metadata():
    raw = {
        "adapter_type": "toy-lora",
        "library_version": "0.1.0",
        "target_shapes": {"q": [8, 8]},
        "factor_shapes": {},
        "r": 4,
        "scale": 2.0,
    }
    fields, meta = split_adapter_config(raw, ToyLoRAConfig, extra_keys=("factor_shapes",))
    assert fields == {"r": 4, "scale": 2.0}
    assert set(meta) == {"adapter_type", "library_version", "target_shapes", "factor_shapes"}
    assert ToyLoRAConfig.from_dict(fields).r == 4
    with pytest.raises(UserError, match=r"unknown key\(s\) 'factor_shapes'; known: .*'?r'?") as err:
        split_adapter_config(raw, ToyLoRAConfig, folder="ad")
    assert "ad/adapter_config.json" in str(err.value) and "\n" not in str(err.value)
