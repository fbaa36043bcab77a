"""papershelf.adapters with Hugging Face models: the forward signature the Trainer reads, the
adapter-only state dict, checkpoint folders, GPT-2 Conv1D targets, quantised bases, the target rule."""

from __future__ import annotations

import copy
import inspect

import pytest
import torch
from papershelf import UserError
from papershelf.adapters import (
    ADAPTER_CONFIG_NAME,
    ADAPTER_WEIGHTS_NAME,
    adapter_layers,
    parse_cli_targets,
    quantization_of,
    resolve_target_modules,
)
from papershelf.adapters.testing import (
    ToyLoRA,
    ToyLoRAConfig,
    ToyLoRAModel,
    linear_twin,
    tiny_bert,
    tiny_gpt2,
    tiny_llama,
)
from torch import nn

transformers = pytest.importorskip("transformers")


def test_forward_carries_the_wrapped_signature_and_label_names():
    from transformers.utils import can_return_loss, find_labels

    model = ToyLoRAModel(tiny_bert(), ToyLoRAConfig(modules_to_save=["classifier"]))
    cls = type(model)
    assert isinstance(model, ToyLoRAModel) and cls.__name__ == "ToyLoRAModel"
    params = inspect.signature(model.forward).parameters
    assert "input_ids" in params and "labels" in params
    assert find_labels(cls) == ["labels"]  # what Trainer uses for eval_loss / compute_metrics
    assert can_return_loss(cls) is False
    # the same class for every wrapper of the same base class (cached)
    assert type(ToyLoRAModel(tiny_bert(1), ToyLoRAConfig())) is cls
    ids = torch.randint(0, 64, (2, 5), generator=torch.Generator().manual_seed(0))
    expected = model(input_ids=ids).logits
    clone = copy.deepcopy(model)  # through __reduce_ex__, as pickling would go
    assert type(clone) is cls
    torch.testing.assert_close(clone(input_ids=ids).logits, expected, rtol=0, atol=0)


def test_state_dict_holds_the_adapter_only_and_loads_back(tmp_path):
    from safetensors.torch import load_file, save_file

    model = ToyLoRAModel(tiny_llama(tie_word_embeddings=True), ToyLoRAConfig())
    sd = model.state_dict()
    layers = adapter_layers(model.model)
    assert set(sd) == {
        f"model.{n}.{k}" for n, m in layers.items() for k in ("lora_A.weight", "lora_B.weight")
    }
    save_file(sd, str(tmp_path / "m.safetensors"))  # tied embeddings: no shared tensors here
    fresh = ToyLoRAModel(tiny_llama(tie_word_embeddings=True), ToyLoRAConfig())
    with torch.no_grad():
        for p in fresh.state_dict(keep_vars=True).values():
            p.zero_()
    result = fresh.load_state_dict(load_file(str(tmp_path / "m.safetensors")))
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in sd.items():
        assert torch.equal(fresh.state_dict()[key], value)
    # PEFT key names (adapter_model.safetensors) load too
    model.save_pretrained(tmp_path / "ad")
    other = ToyLoRAModel(tiny_llama(tie_word_embeddings=True), ToyLoRAConfig())
    other.load_state_dict(load_file(str(tmp_path / "ad" / ADAPTER_WEIGHTS_NAME)))
    assert all(torch.equal(other.state_dict()[k], v) for k, v in sd.items())
    with pytest.raises(RuntimeError, match="missing adapter keys"):
        other.load_state_dict({})
    assert sorted(other.load_state_dict({}, strict=False).missing_keys) == sorted(sd)


def test_converted_checkpoint_resumes_through_the_trainer_loader(tmp_path):
    from papershelf.adapters.trainer import INDEX_NAME, convert_checkpoint
    from transformers.trainer_utils import load_sharded_checkpoint

    model = ToyLoRAModel(tiny_bert(), ToyLoRAConfig(modules_to_save=["classifier"]))
    (tmp_path / "model.safetensors").write_bytes(b"x")  # what Trainer._save wrote
    convert_checkpoint(tmp_path, model)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, INDEX_NAME]
    )
    fresh = ToyLoRAModel(tiny_bert(1), ToyLoRAConfig(modules_to_save=["classifier"]))
    result = load_sharded_checkpoint(fresh, tmp_path, strict=False)  # Trainer's resume path
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value)
    loaded = ToyLoRAModel.from_pretrained(tiny_bert(), tmp_path)
    ids = torch.randint(0, 64, (2, 5), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(loaded(input_ids=ids).logits, model(input_ids=ids).logits)


def _same_adapter(src: nn.Module, dst: nn.Module) -> None:
    dst_layers = adapter_layers(dst)
    with torch.no_grad():
        for name, layer in adapter_layers(src).items():
            dst_layers[name].lora_A.weight.copy_(layer.lora_A.weight)
            dst_layers[name].lora_B.weight.copy_(layer.lora_B.weight)


@pytest.mark.parametrize("targets", [None, ["c_attn", "c_proj", "c_fc"], "all-linear"])
def test_conv1d_targets_match_the_linear_twin(targets, tmp_path):
    gpt2 = tiny_gpt2()
    twin = linear_twin(gpt2)  # oracle: nn.Linear with W.T
    ids = torch.randint(0, 64, (2, 7), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(twin(ids).logits, gpt2(ids).logits, rtol=0, atol=1e-12)
    conv = ToyLoRAModel(gpt2, ToyLoRAConfig(target_modules=targets)).double()
    lin = ToyLoRAModel(twin, ToyLoRAConfig(target_modules=targets)).double()
    _same_adapter(conv.model, lin.model)
    assert sorted(conv.adapter_layers()) == sorted(lin.adapter_layers())
    assert conv.adapter_config_dict()["target_shapes"] == lin.adapter_config_dict()["target_shapes"]
    assert all(m.fan_in_fan_out for m in conv.adapter_layers().values())
    expected = lin(ids).logits
    torch.testing.assert_close(conv(ids).logits, expected, rtol=0, atol=1e-10)
    with lin.disable_adapter():
        base = lin(ids).logits
    with conv.disable_adapter():
        torch.testing.assert_close(conv(ids).logits, base, rtol=0, atol=1e-10)
    # merge: ΔW lands transposed in the Conv1D weight, W_conv == W_linear.T
    w0 = {n: m.base_layer.weight.clone() for n, m in conv.adapter_layers().items()}
    conv.merge_adapter()
    lin.merge_adapter()
    for name, layer in conv.adapter_layers().items():
        lin_w = lin.adapter_layers()[name].base_layer.weight
        torch.testing.assert_close(layer.base_layer.weight, lin_w.T, rtol=0, atol=1e-12)
    torch.testing.assert_close(conv(ids).logits, expected, rtol=0, atol=1e-10)
    conv.unmerge_adapter()
    for name, layer in conv.adapter_layers().items():
        torch.testing.assert_close(layer.base_layer.weight, w0[name], rtol=0, atol=1e-12)
    conv.save_pretrained(tmp_path / "ad")
    loaded = ToyLoRAModel.from_pretrained(tiny_gpt2(), tmp_path / "ad").double()
    torch.testing.assert_close(loaded(ids).logits, expected, rtol=0, atol=1e-10)
    plain = conv.merge_and_unload()
    assert type(plain.transformer.h[0].attn.c_attn).__name__ == "Conv1D"
    torch.testing.assert_close(plain(ids).logits, expected, rtol=0, atol=1e-10)


class Linear4bit(nn.Linear):
    """Stands in for bitsandbytes' Linear4bit (recognised by its class name)."""


def test_merge_refuses_quantised_base_layers():
    from papershelf.adapters.testing import toy_encoder

    model = toy_encoder()
    q = model.layers[0].query
    quant = Linear4bit(q.in_features, q.out_features)
    model.layers[0].query = quant
    wrapped = ToyLoRAModel(model, ToyLoRAConfig(target_modules=["query", "value"]))
    before = quant.weight.clone()
    for call in (wrapped.merge_adapter, wrapped.merge_and_unload):
        with pytest.raises(
            UserError, match=r"^merge\w*: 'layers.0.query' is quantised \(Linear4bit\)"
        ):
            call()
    assert torch.equal(quant.weight, before) and not wrapped.merged
    with pytest.raises(UserError, match="is quantised"):
        wrapped.model.layers[0].query.merge()
    # other signs of a quantised layer
    lin = nn.Linear(4, 4)
    assert quantization_of(lin) is None
    lin.weight.quant_state = object()
    assert "quant" not in (quantization_of(nn.Linear(4, 4)) or "")
    assert quantization_of(lin) is not None
    int8 = nn.Linear(4, 4)
    int8.weight = nn.Parameter(torch.zeros(4, 4, dtype=torch.int8), requires_grad=False)
    assert "int8" in quantization_of(int8)
    fp8 = nn.Linear(4, 4)
    fp8.weight = nn.Parameter(torch.zeros(4, 4).to(torch.float8_e4m3fn), requires_grad=False)
    assert "float8" in quantization_of(fp8)
    gptq = nn.Linear(4, 4)
    gptq.qweight = torch.zeros(1)
    assert "qweight" in quantization_of(gptq)
    with pytest.raises(UserError, match="is quantised"):
        ToyLoRA(int8).merge()


def test_one_target_rule_list_suffix_string_regex():
    bert = tiny_bert()
    suffix = resolve_target_modules(bert, ["query", "value"])
    regex = resolve_target_modules(bert, r".*attention\.self\.(query|value)")
    assert suffix == regex and len(suffix) == 4
    with pytest.raises(UserError, match=r"matched no nn.Linear"):
        resolve_target_modules(bert, "query")  # a regex matches the WHOLE name
    with pytest.raises(UserError, match=r"pass a list: \['query', 'value'\]"):
        resolve_target_modules(bert, "query,value")
    with pytest.raises(UserError, match="not a valid regex"):
        resolve_target_modules(bert, "(query")
    assert parse_cli_targets("query, value") == ["query", "value"]
    assert parse_cli_targets(r".*\.(query|value)") == r".*\.(query|value)"
    assert parse_cli_targets("all-linear") == "all-linear"
