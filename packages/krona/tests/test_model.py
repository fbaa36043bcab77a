"""get_krona_model / KronAModel on Hugging Face models: trainability (also under the Hugging
Face Trainer), merge, save/load, block variants and bad input.

Also: the Trainer with default arguments (train, eval_loss + compute_metrics, predict,
adapter-only checkpoints, reload, resume) on a tiny BERT and a tiny tied-embedding Llama;
GPT-2 ``Conv1D`` targets against the same adapter on ``nn.Linear``; the target rule.
"""

from __future__ import annotations

import json

import krona
import pytest
import torch
from krona import KronAConfig, KronAModel, get_krona_model
from krona.errors import KronAError
from krona.layer import KronABlock, KronALinear
from papershelf.adapters import AdapterCheckpointCallback
from papershelf.adapters.testing import (
    argmax_accuracy,
    linear_twin,
    tiny_bert,
    tiny_gpt2,
    tiny_llama,
    trainer_round_trip,
    trainer_rows,
)
from torch import nn

transformers = pytest.importorskip("transformers")


def _randomise(model, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.krona_modules().values():
            m.krona_A.copy_(0.3 * torch.randn(m.krona_A.shape, generator=g))
            m.krona_B.copy_(0.3 * torch.randn(m.krona_B.shape, generator=g))


def _logits(model, batch):
    model.eval()
    with torch.no_grad():
        return model(**batch).logits


def test_only_adapters_and_modules_to_save_train(tiny_cls):
    model, _ = tiny_cls
    km = get_krona_model(model, KronAConfig(modules_to_save=["classifier"]))
    trainable = {n for n, p in km.model.named_parameters() if p.requires_grad}
    assert trainable == {
        n for n in trainable if n.endswith(("krona_A", "krona_B")) or n.startswith("classifier.")
    }
    assert len([n for n in trainable if n.endswith("krona_A")]) == 4
    assert km.num_adapter_parameters() == 4 * (8 * 8 + 8 * 8)
    summary = km.trainable_parameter_summary()
    assert summary.trainable == km.num_adapter_parameters() + 64 * 3 + 3
    assert "trainable params" in str(summary)


def test_step_zero_equals_base_and_disable_adapter(tiny_cls, batch):
    model, _ = tiny_cls
    before = _logits(model, batch)
    km = get_krona_model(model, KronAConfig())
    torch.testing.assert_close(_logits(km, batch), before, atol=0, rtol=0)
    _randomise(km)
    assert not torch.allclose(_logits(km, batch), before)
    with km.disable_adapter():
        torch.testing.assert_close(_logits(km, batch), before, atol=1e-6, rtol=0)


def test_merge_and_unload_matches_and_leaves_only_linear(tiny_cls, batch):
    model, _ = tiny_cls
    km = get_krona_model(model, KronAConfig(scale=2.0))
    _randomise(km)
    unmerged = _logits(km, batch)
    plain = km.merge_and_unload()
    assert not any(isinstance(m, KronALinear) for m in plain.modules())
    assert isinstance(plain.get_submodule("bert.encoder.layer.0.attention.self.query"), nn.Linear)
    torch.testing.assert_close(_logits(plain, batch), unmerged, atol=1e-5, rtol=0)


def test_save_load_round_trip_is_exact(tiny_cls, batch, tmp_path):
    from papershelf.models import load_model

    model, _ = tiny_cls
    base_state = {k: v.clone() for k, v in model.state_dict().items()}
    km = get_krona_model(model, KronAConfig(scale=3.0, modules_to_save=["classifier"]))
    _randomise(km)
    with torch.no_grad():
        km.model.classifier.weight.add_(1.0)
    # frozen like the loaded model: whether a weight requires grad changes the CPU matmul
    # kernel (~1e-7), so bit-exactness is compared between two frozen models
    for p in km.parameters():
        p.requires_grad_(False)
    expected = _logits(km, batch)
    km.save_pretrained(tmp_path / "ad")
    cfg = json.loads((tmp_path / "ad" / "adapter_config.json").read_text())
    assert cfg["adapter_type"] == "krona" and cfg["scale"] == 3.0 and cfg["variant"] == "linear"
    query = "bert.encoder.layer.0.attention.self.query"
    assert cfg["target_shapes"][query] == [64, 64]
    assert cfg["factor_shapes"][query] == {"A": [8, 8], "B": [8, 8]}
    assert cfg["library_version"] == krona.__version__
    from safetensors.torch import load_file

    keys = set(load_file(str(tmp_path / "ad" / "adapter_model.safetensors")))
    assert "base_model.model.bert.encoder.layer.0.attention.self.query.krona_A" in keys
    assert "base_model.model.classifier.weight" in keys

    fresh, _ = load_model("tiny-encoder", task="sequence-classification", num_labels=3)
    fresh.load_state_dict(base_state)
    loaded = KronAModel.from_pretrained(fresh, tmp_path / "ad")
    assert torch.equal(_logits(loaded, batch), expected)
    assert not any(p.requires_grad for p in loaded.parameters())
    for name, m in km.krona_modules().items():
        assert torch.equal(m.krona_A, loaded.krona_modules()[name].krona_A)


def test_from_pretrained_refuses_another_base(tiny_cls, tmp_path):
    from papershelf.models import load_model, tiny_encoder_config
    from transformers import BertForSequenceClassification

    model, _ = tiny_cls
    get_krona_model(model, KronAConfig()).save_pretrained(tmp_path / "ad")
    wide = BertForSequenceClassification(tiny_encoder_config(hidden_size=96, num_labels=3))
    with pytest.raises(Exception, match=r"shape \(out, in\)=\(96, 96\).*\(64, 64\)"):
        KronAModel.from_pretrained(wide, tmp_path / "ad")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    with pytest.raises(KronAError, match="not 'krona'"):
        KronAModel.from_pretrained(load_model("tiny-encoder")[0], tmp_path / "other")


def test_bad_targets_refused(tiny_cls):
    from papershelf.models import load_model

    model, _ = tiny_cls
    with pytest.raises(
        ValueError,
        match=r"target_modules: .*matched no nn.Linear module; nn.Linear modules found: bert",
    ):
        get_krona_model(model, KronAConfig(target_modules=["nope"]))
    # a string is one full-match regex (PEFT's rule), never split on commas
    with pytest.raises(ValueError, match=r"for several names pass a list: \['query', 'value'\]"):
        get_krona_model(load_model("tiny-encoder")[0], KronAConfig(target_modules="query,value"))
    with pytest.raises(KronAError, match="A=8x8, B=8x4"):
        get_krona_model(
            load_model("tiny-encoder")[0], KronAConfig(shapes={"query": {"A": (8, 8), "B": (8, 4)}})
        )


@pytest.mark.parametrize("variant", ["block", "block_res"])
def test_block_variant_cannot_merge(tiny_cls, variant):
    model, _ = tiny_cls
    km = get_krona_model(model, KronAConfig(variant=variant))
    for call in (km.merge_and_unload, km.merge_adapter, km.unmerge_adapter):
        with pytest.raises(
            KronAError, match="cannot be merged: the FFN between input and output is nonlinear"
        ):
            call()


def test_block_res_default_starts_pretrained_and_learns_its_residual_scale(tiny_cls):
    """Default ``block_res``: s_res is a trained parameter starting at 0, so the model at step 0
    is the pretrained one; s_res receives a gradient and moves on an optimizer step."""
    model, _ = tiny_cls
    model.eval()
    ids = torch.randint(0, 100, (2, 7), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        base_logits = model(input_ids=ids).logits.clone()
    km = get_krona_model(model, KronAConfig(variant="block_res", modules_to_save=["classifier"]))
    blocks = list(km.krona_modules().values())
    assert blocks and all(isinstance(b.res_scale, nn.Parameter) for b in blocks)
    assert all(b.res_scale.requires_grad and float(b.res_scale.detach()) == 0.0 for b in blocks)
    trainable = {n for n, p in km.named_parameters() if p.requires_grad}
    assert sum(n.endswith("res_scale") for n in trainable) == len(blocks)
    torch.testing.assert_close(km(input_ids=ids).logits, base_logits, atol=0, rtol=0)
    km(input_ids=ids).logits.pow(2).sum().backward()
    grads = [b.res_scale.grad for b in blocks]
    assert all(g is not None and float(g.abs()) > 0 for g in grads)
    torch.optim.SGD([b.res_scale for b in blocks], lr=0.1).step()
    assert all(float(b.res_scale.detach()) != 0.0 for b in blocks)
    fixed = KronAConfig(variant="block_res", res_scale_trainable=False)
    assert not fixed.resolved_res_scale_trainable
    assert not KronAConfig(variant="block").resolved_res_scale_trainable


def test_bert_block_placement_by_hand(tiny_cls):
    """KronA^B on BERT adds s·(A⊗B)X (+ s_res·X) to output.dense's output, before LayerNorm."""
    model, _ = tiny_cls
    model.eval()
    layer = model.bert.encoder.layer[0]
    x = torch.randn(2, 5, 64)
    base_out = layer.output(layer.intermediate(x), x)
    km = get_krona_model(model, KronAConfig(variant="block_res", scale=2.0, res_scale=0.5))
    block = layer.krona_block
    assert isinstance(block, KronABlock)
    dense = layer.output.dense

    def plain_dense(h):  # the dense layer without the tap's hook
        return nn.functional.linear(h, dense.weight, dense.bias)

    with torch.no_grad():
        inter = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(x))
    torch.testing.assert_close(
        layer.output(layer.intermediate(x), x),
        layer.output.LayerNorm(plain_dense(inter) + 0.5 * x + x),
    )
    assert not torch.allclose(layer.output(layer.intermediate(x), x), base_out)
    _randomise(km)
    kron = torch.kron(block.krona_A, block.krona_B)
    h = plain_dense(inter) + 2.0 * x @ kron.T + 0.5 * x
    torch.testing.assert_close(
        layer.output(layer.intermediate(x), x), layer.output.LayerNorm(h + x), atol=1e-5, rtol=1e-5
    )


def test_block_save_load_and_unload(tiny_cls, batch, tmp_path):
    from papershelf.models import load_model

    model, _ = tiny_cls
    state = {k: v.clone() for k, v in model.state_dict().items()}
    before = _logits(model, batch)
    km = get_krona_model(model, KronAConfig(variant="block", modules_to_save=["classifier"]))
    torch.testing.assert_close(
        _logits(km, batch), before, atol=0, rtol=0
    )  # block starts at the base
    _randomise(km)
    expected = _logits(km, batch)
    km.save_pretrained(tmp_path / "b")
    fresh, _ = load_model("tiny-encoder", task="sequence-classification", num_labels=3)
    fresh.load_state_dict(state)
    loaded = KronAModel.from_pretrained(fresh, tmp_path / "b", is_trainable=True)
    assert torch.equal(_logits(loaded, batch), expected)
    assert any(p.requires_grad for p in loaded.parameters())
    plain = km.unload()
    assert not any(isinstance(m, KronABlock) for m in plain.modules())
    torch.testing.assert_close(_logits(plain, batch), before, atol=0, rtol=0)


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-gpt2"])
def test_block_variant_on_decoders(name):
    from papershelf.models import load_model

    torch.manual_seed(0)
    model, _ = load_model(name, task="causal-lm")
    model.eval()
    ids = torch.randint(0, 100, (2, 6))
    with torch.no_grad():
        before = model(ids).logits
    km = get_krona_model(model, KronAConfig(variant="block"))
    assert len(km.krona_modules()) == model.config.num_hidden_layers
    with torch.no_grad():
        torch.testing.assert_close(km(ids).logits, before, atol=0, rtol=0)
    _randomise(km)
    with torch.no_grad():
        assert not torch.allclose(km(ids).logits, before)


def test_block_taps_refused_on_unknown_arch_and_wrong_width(tiny_cls):
    model, _ = tiny_cls

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

    with pytest.raises(KronAError, match="ffn_taps: no FFN map for model_type None"):
        get_krona_model(Plain(), KronAConfig(variant="block"))
    with pytest.raises(KronAError, match=r"maps 64 -> 128 features"):
        get_krona_model(
            model, KronAConfig(variant="block", ffn_taps=[("intermediate", "intermediate")])
        )


def test_block_with_explicit_shapes_round_trips(tiny_cls, batch, tmp_path):
    """Non-auto factor shapes of a block variant survive save -> from_pretrained."""
    from papershelf.models import load_model

    model, _ = tiny_cls
    state = {k: v.clone() for k, v in model.state_dict().items()}
    shapes = {"*": {"A": (4, 4), "B": (16, 16)}}  # auto would give 8x8, 8x8
    km = get_krona_model(model, KronAConfig(variant="block_res", shapes=shapes))
    _randomise(km)
    expected = _logits(km, batch)
    km.save_pretrained(tmp_path / "b")
    fresh, _ = load_model("tiny-encoder", task="sequence-classification", num_labels=3)
    fresh.load_state_dict(state)
    loaded = KronAModel.from_pretrained(fresh, tmp_path / "b")
    assert set(loaded.shapes.values()) == {((4, 4), (16, 16))}
    # not bit-exact: these factor shapes hit a BLAS path whose rounding varies by ~1e-8
    torch.testing.assert_close(_logits(loaded, batch), expected, atol=1e-6, rtol=0)


def test_merge_adapter_unmerge_adapter_and_refusals_while_merged(tiny_cls, batch, tmp_path):
    model, _ = tiny_cls
    km = get_krona_model(model, KronAConfig(scale=2.0))
    _randomise(km)
    query = km.model.get_submodule("bert.encoder.layer.0.attention.self.query")
    w0 = query.base_layer.weight.detach().clone()
    unmerged = _logits(km, batch)
    km.merge_adapter()
    assert km.merged
    torch.testing.assert_close(_logits(km, batch), unmerged, atol=1e-5, rtol=0)
    with pytest.raises(KronAError, match="already merged"):
        km.merge_adapter()
    with pytest.raises(KronAError, match="unmerge_adapter"):
        km.save_pretrained(tmp_path / "merged")
    with pytest.raises(KronAError, match="unmerge_adapter"), km.disable_adapter():
        pass
    km.unmerge_adapter()
    assert not km.merged
    torch.testing.assert_close(query.base_layer.weight, w0, atol=1e-6, rtol=0)
    km.unmerge_adapter()  # nothing merged: a no-op


def test_deprecated_names_warn_and_still_work(tiny_cls, batch):
    model, _ = tiny_cls
    km = get_krona_model(model, KronAConfig())
    _randomise(km)
    unmerged = _logits(km, batch)
    with pytest.warns(DeprecationWarning, match=r"merge\(\) is deprecated.*use merge_adapter"):
        km.merge()
    assert km.merged
    torch.testing.assert_close(_logits(km, batch), unmerged, atol=1e-5, rtol=0)
    with pytest.warns(DeprecationWarning, match="use unmerge_adapter"):
        km.unmerge()
    assert not km.merged
    assert km.krona_config is km.adapter_config
    assert km.krona_modules() == km.adapter_layers()


def test_old_nested_layout_still_loads(tiny_cls, batch, tmp_path):
    """An adapter folder written by krona 0.1.0 (nested ``modules`` + ``config``) loads."""
    from papershelf.models import load_model
    from safetensors.torch import save_file

    model, _ = tiny_cls
    state = {k: v.clone() for k, v in model.state_dict().items()}
    km = get_krona_model(model, KronAConfig(scale=3.0, modules_to_save=["classifier"]))
    _randomise(km)
    for p in km.parameters():
        p.requires_grad_(False)
    expected = _logits(km, batch)
    folder = tmp_path / "old"
    folder.mkdir()
    tensors = {
        f"base_model.model.{n}.{p}": getattr(m, p).detach().clone()
        for n, m in km.krona_modules().items()
        for p in ("krona_A", "krona_B")
    }
    for key, value in km.model.classifier.state_dict().items():
        tensors[f"base_model.model.classifier.{key}"] = value.clone()
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    old = {
        "adapter_type": "krona",
        "version": "0.1.0",
        "variant": "linear",
        "scale": 3.0,
        "res_scale": None,
        "modules": {
            n: {"A": [8, 8], "B": [8, 8], "target_shape": [64, 64]} for n in km.krona_modules()
        },
        "config": {
            "variant": "linear",
            "scale": 3.0,
            "res_scale": 1.0,
            "res_scale_trainable": False,
            "shapes": "auto",
            "factor": -1,
            "init": "zero_A",
            "matmul_order": "auto",
            "target_modules": ["query", "value"],
            "exclude_modules": None,
            "modules_to_save": ["classifier"],
            "dropout": 0.0,
            "ffn_taps": None,
            "adapter_type": "krona",
        },
    }
    (folder / "adapter_config.json").write_text(json.dumps(old))
    fresh, _ = load_model("tiny-encoder", task="sequence-classification", num_labels=3)
    fresh.load_state_dict(state)
    loaded = KronAModel.from_pretrained(fresh, folder)
    assert loaded.adapter_config.scale == 3.0
    assert torch.equal(_logits(loaded, batch), expected)
    (folder / "adapter_config.json").write_text(json.dumps({**old, "modules": None}))
    with pytest.raises(KronAError, match="lacks 'config' or 'modules'"):
        KronAModel.from_pretrained(load_model("tiny-encoder")[0], folder)


def test_hf_trainer_updates_only_adapters(tiny_cls, tmp_path):
    from transformers import Trainer, TrainingArguments

    model, tok = tiny_cls
    km = get_krona_model(model, KronAConfig(modules_to_save=["classifier"]))
    frozen = km.model.bert.embeddings.word_embeddings.weight.detach().clone()
    B_before = km.model.bert.encoder.layer[0].attention.self.query.krona_B.detach().clone()
    enc = tok(["a cat", "a dog", "the car", "red bus"] * 4, padding=True)
    data = [
        {
            "input_ids": enc["input_ids"][i],
            "attention_mask": enc["attention_mask"][i],
            "labels": i % 3,
        }
        for i in range(16)
    ]
    args = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=3,
        per_device_train_batch_size=8,
        learning_rate=1e-2,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        logging_strategy="no",
    )  # default remove_unused_columns: forward carries the wrapped model's signature
    Trainer(model=km, args=args, train_dataset=data).train()
    assert torch.equal(km.model.bert.embeddings.word_embeddings.weight, frozen)
    assert not torch.equal(km.model.bert.encoder.layer[0].attention.self.query.krona_B, B_before)


@pytest.mark.parametrize("arch", ["bert", "llama"])
def test_trainer_default_arguments_round_trip(arch, tmp_path):
    causal = arch == "llama"
    config = KronAConfig(
        target_modules=["q_proj", "v_proj"] if causal else ["query", "value"],
        modules_to_save=None if causal else ["classifier"],
    )
    result = trainer_round_trip(
        (lambda: tiny_llama(tie_word_embeddings=True)) if causal else tiny_bert,
        lambda base: get_krona_model(base, config),
        KronAModel,
        trainer_rows(causal),
        tmp_path,
        callbacks=lambda: [AdapterCheckpointCallback()],
        compute_metrics=None if causal else argmax_accuracy,
        resume=not causal,
    )
    if not causal:
        assert "eval_acc" in result["eval"]
    assert KronAModel.config_from_pretrained(result["checkpoint"]).variant == "linear"


def test_gpt2_conv1d_matches_linear_twin_and_merges(tmp_path):
    gpt2 = tiny_gpt2()
    twin = linear_twin(gpt2)
    config = KronAConfig(target_modules=["c_attn", "c_fc"], scale=2.0)
    conv, lin = get_krona_model(gpt2, config), get_krona_model(twin, config)
    assert conv.shapes == lin.shapes  # factors of (out, in), whatever the base layout
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, layer in conv.krona_modules().items():
            layer.krona_A.copy_(torch.randn(layer.krona_A.shape, generator=g))
            other = lin.krona_modules()[name]
            other.krona_A.copy_(layer.krona_A)
            other.krona_B.copy_(layer.krona_B)
    ids = torch.randint(0, 64, (2, 7), generator=g)
    expected = lin(ids).logits
    torch.testing.assert_close(conv(ids).logits, expected, rtol=0, atol=1e-10)
    conv.merge_adapter()
    lin.merge_adapter()
    for name, layer in conv.krona_modules().items():
        w_lin = lin.krona_modules()[name].base_layer.weight
        torch.testing.assert_close(layer.base_layer.weight, w_lin.T, rtol=0, atol=1e-12)
    torch.testing.assert_close(conv(ids).logits, expected, rtol=0, atol=1e-10)
    conv.unmerge_adapter()
    conv.save_pretrained(tmp_path / "ad")
    loaded = KronAModel.from_pretrained(tiny_gpt2(), tmp_path / "ad").double()
    torch.testing.assert_close(loaded(ids).logits, expected, rtol=0, atol=1e-10)
    with pytest.raises(KronAError, match=r"Conv1D; PEFT LoKr adapts nn\.Linear"):
        conv.export_peft(tmp_path / "peft")
    plain = conv.merge_and_unload()
    assert type(plain.transformer.h[0].attn.c_attn).__name__ == "Conv1D"
    torch.testing.assert_close(plain(ids).logits, expected, rtol=0, atol=1e-10)


def test_target_modules_string_is_a_full_match_regex():
    from papershelf.models import tiny_encoder_config

    bert = transformers.BertForSequenceClassification(
        tiny_encoder_config(
            vocab_size=64, hidden_size=16, intermediate_size=32, num_attention_heads=2
        )
    )
    km = get_krona_model(
        bert, KronAConfig(target_modules=r".*layer\.0\.attention\.self\.(query|key)")
    )
    assert sorted(km.krona_modules()) == [
        "bert.encoder.layer.0.attention.self.key",
        "bert.encoder.layer.0.attention.self.query",
    ]
    assert KronAConfig(target_modules="query,value").target_modules == "query,value"
    with pytest.raises(KronAError, match="not a valid regex"):
        KronAConfig(target_modules="(query")
    block = get_krona_model(
        transformers.BertForSequenceClassification(
            tiny_encoder_config(
                vocab_size=64, hidden_size=16, intermediate_size=32, num_attention_heads=2
            )
        ),
        KronAConfig(variant="block", target_modules=r".*layer\.1"),
    )
    assert list(block.krona_modules()) == ["bert.encoder.layer.1.krona_block"]
