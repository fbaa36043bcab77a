"""DyLoRAModel on a tiny BERT: targets, freezing, rank control, merge, save/load."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from dylora import DyLoRAConfig, DyLoRAModel, draw_rank, evaluate_ranks, get_dylora_model
from dylora.naive import naive_lora_update
from dylora.testing import make_tiny_bert, randomize_adapters
from papershelf import UserError
from papershelf.adapters import adapter_layers
from torch import nn

QV = ["query", "value"]


class NaiveLoRA(nn.Module):
    """A hand-written LoRA layer over cloned tensors (the oracle)."""

    def __init__(self, w, bias, a, up, scale):
        super().__init__()
        self.w, self.bias, self.a, self.up, self.scale = w, bias, a, up, scale

    def forward(self, x):
        return x @ self.w.T + self.bias + naive_lora_update(x, self.a, self.up, self.scale)


def wrap(seed=0, **kw):
    kw.setdefault("target_modules", QV)
    kw.setdefault("modules_to_save", ["classifier"])
    kw.setdefault("r_max", 4)
    model = get_dylora_model(make_tiny_bert(seed), DyLoRAConfig(**kw))
    randomize_adapters(model)
    return model


def logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_targets_freezing_and_counts():
    base = make_tiny_bert()
    n_base = sum(p.numel() for p in base.parameters())
    model = get_dylora_model(
        base, DyLoRAConfig(r_max=4, target_modules=QV, modules_to_save=["classifier"])
    )
    assert sorted(model.dylora_layers) == sorted(
        f"bert.encoder.layer.{i}.attention.self.{p}" for i in range(2) for p in QV
    )
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert all(".lora_" in n or ".classifier." in n for n in trainable)
    n_adapter = 4 * 4 * (32 + 32)  # 4 modules · r_max · (in + out)
    n_head = 32 * 3 + 3
    summary = model.trainable_parameter_summary()
    assert summary.trainable == n_adapter + n_head
    assert summary.total == n_base + n_adapter


def test_default_targets_are_query_value_and_all_linear():
    model = get_dylora_model(make_tiny_bert(), DyLoRAConfig(r_max=2))
    assert len(model.dylora_layers) == 4
    model = get_dylora_model(
        make_tiny_bert(),
        DyLoRAConfig(r_max=2, target_modules="all-linear", modules_to_save=["classifier"]),
    )
    assert "classifier" not in model.dylora_layers and len(model.dylora_layers) == 2 * 6 + 1


def test_bad_targets():
    with pytest.raises(
        UserError, match=r"matched no nn.Linear module; nn.Linear modules found: bert"
    ):
        get_dylora_model(make_tiny_bert(), DyLoRAConfig(target_modules=["nothing"]))
    with pytest.raises(UserError, match=r"is a BertSelfAttention, not nn.Linear"):
        get_dylora_model(make_tiny_bert(), DyLoRAConfig(target_modules=["self"]))


def test_llama_works(input_ids):
    from papershelf.models import tiny_decoder_config
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    llama = LlamaForCausalLM(
        tiny_decoder_config(
            "llama",
            vocab_size=100,
            hidden_size=32,
            intermediate_size=64,
            num_attention_heads=2,
            num_key_value_heads=2,
        )
    )
    model = get_dylora_model(llama, DyLoRAConfig(r_max=2))
    assert all(n.endswith(("q_proj", "v_proj")) for n in model.dylora_layers)
    model.eval()
    assert model(input_ids=input_ids).logits.shape == (4, 9, 100)


def test_identity_at_init(input_ids):
    ref = logits(make_tiny_bert(), input_ids)
    model = get_dylora_model(make_tiny_bert(), DyLoRAConfig(r_max=4, target_modules=QV))
    model.eval()
    for b in range(1, 5):
        with model.at_rank(b):
            assert torch.equal(logits(model, input_ids), ref)


def test_model_at_rank_b_matches_explicit_lora_layers(input_ids):
    model = wrap()
    model.eval()
    # oracle: replace every DyLoRA layer by a hand-written rank-b LoRA from cloned tensors
    for b in (1, 3):
        with model.at_rank(b):
            ours = logits(model, input_ids)
        ref_model = make_tiny_bert()
        ref_model.load_state_dict(model.model.state_dict(), strict=False)
        for name, layer in model.dylora_layers.items():
            w, bias = (
                layer.base_layer.weight.detach().clone(),
                layer.base_layer.bias.detach().clone(),
            )
            a, up = (
                layer.lora_A.weight[:b].detach().clone(),
                layer.lora_B.weight[:, :b].detach().clone(),
            )

            ref = NaiveLoRA(w, bias, a, up, 16.0 / b)
            parent, _, child = name.rpartition(".")
            setattr(ref_model.get_submodule(parent), child, ref)
        ref_model.classifier.load_state_dict(model.model.classifier.state_dict())
        torch.testing.assert_close(ours, logits(ref_model, input_ids), atol=1e-5, rtol=1e-5)


def test_set_rank_at_rank_and_eval_rank(input_ids):
    model = wrap(eval_rank=2)
    model.train()
    model.set_rank(3)
    assert model.rank == 3
    with model.at_rank(1):
        assert model.rank == 1
    assert model.rank == 3
    with pytest.raises(RuntimeError), model.at_rank(2):
        raise RuntimeError("boom")
    assert model.rank == 3
    for bad in (0, 5):
        with pytest.raises(UserError, match=rf"rank: must be in \[1, 4\], got {bad}"):
            model.set_rank(bad)
    # a sampled (not explicit) rank is replaced by eval_rank in eval mode, deterministically
    model.sample_rank(0)
    model.eval()
    assert model.rank == 2
    assert torch.equal(logits(model, input_ids), logits(model, input_ids))
    assert model.rank == 2


def test_training_without_sampling_warns_once(input_ids):
    model = wrap()
    model.train()
    with pytest.warns(UserWarning, match="sample_rank"):
        model(input_ids=input_ids)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model(input_ids=input_ids)
        fresh = wrap()
        fresh.train()
        fresh.sample_rank(0)
        fresh(input_ids=input_ids)


def test_sample_rank_scopes():
    model = wrap()
    b = model.sample_rank(5)
    assert isinstance(b, int) and model.rank == b
    assert {layer.rank for layer in model.dylora_layers.values()} == {b}
    model = wrap(sampling_scope="per_layer", r_max=8)
    draws = [model.sample_rank(s) for s in range(5)]
    assert all(isinstance(d, dict) and len(d) == 4 for d in draws)
    assert any(len(set(d.values())) > 1 for d in draws)
    assert {n: layer.rank for n, layer in model.dylora_layers.items()} == draws[-1]
    assert model.sample_rank(2) == draws[2]


def test_merge_and_unload_at_several_ranks(input_ids):
    for b in (1, 2, 4):
        model = wrap()
        model.eval()
        with model.at_rank(b):
            expected = logits(model, input_ids)
        model.merge_adapter(b)
        torch.testing.assert_close(logits(model, input_ids), expected, atol=1e-5, rtol=1e-5)
        with pytest.raises(UserError, match="merged"):
            model.set_rank(1)
        with pytest.raises(UserError, match="already merged"):
            model.merge_adapter(3)
        model.unmerge_adapter()
        plain = model.merge_and_unload(rank=b)
        assert not adapter_layers(plain)
        assert all(type(m) is nn.Linear for n, m in plain.named_modules() if n.endswith(tuple(QV)))
        torch.testing.assert_close(logits(plain, input_ids), expected, atol=1e-5, rtol=1e-5)


def test_merge_and_unload_needs_an_explicit_rank():
    model = wrap()
    with pytest.raises(TypeError):
        model.merge_and_unload()  # type: ignore[call-arg]
    with pytest.raises(UserError, match=r"rank: must be in \[1, 4\]"):
        model.merge_and_unload(rank=9)


def test_unload_and_disable_adapter(input_ids):
    ref = logits(make_tiny_bert(), input_ids)
    model = wrap(modules_to_save=None)
    model.eval()
    with model.disable_adapter():
        torch.testing.assert_close(logits(model, input_ids), ref)
    assert not torch.allclose(logits(model, input_ids), ref)
    torch.testing.assert_close(logits(model.unload(), input_ids), ref)


def test_disable_adapter_keeps_rank_control(input_ids):
    """Inside disable_adapter the model is not "merged": eval() still picks eval_rank, ranks
    can be set, and the adapter comes back at the right rank (it used to fake a merge)."""
    ref = logits(make_tiny_bert(), input_ids)
    model = wrap(modules_to_save=None)
    step = next(s for s in range(100) if draw_rank(model.dylora_config, s) != 4)
    model.train()
    model.sample_rank(step)
    with model.disable_adapter():
        assert not model.merged
        model.eval()  # a sampled rank gives way to eval_rank (r_max = 4) in eval mode
        torch.testing.assert_close(logits(model, input_ids), ref)
        with model.at_rank(1):
            torch.testing.assert_close(logits(model, input_ids), ref)
        model.unmerge_adapter()  # nothing is merged: a no-op
    assert model.rank == 4
    with model.at_rank(4):
        expected = logits(model, input_ids)
    assert torch.equal(logits(model, input_ids), expected)
    assert not torch.allclose(expected, ref)


def test_save_load_round_trip_is_exact(tmp_path, input_ids):
    model = wrap(eval_rank=3, update_mode="all")
    with torch.no_grad():
        model.model.classifier.weight.add_(0.5)
    model.save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "adapter_config.json").read_text())
    assert cfg["adapter_type"] == "dylora" and cfg["eval_rank"] == 3 and cfg["r_max"] == 4
    assert cfg["target_shapes"]["bert.encoder.layer.0.attention.self.query"] == [32, 32]
    loaded = DyLoRAModel.from_pretrained(make_tiny_bert(), tmp_path)
    assert loaded.dylora_config == model.dylora_config
    assert DyLoRAModel.config_from_pretrained(tmp_path) == model.dylora_config
    assert loaded.rank == 3 and not loaded.training
    assert not any(p.requires_grad for p in loaded.parameters())
    for name, layer in model.dylora_layers.items():
        other = loaded.dylora_layers[name]
        assert torch.equal(layer.lora_A.weight, other.lora_A.weight)
        assert torch.equal(layer.lora_B.weight, other.lora_B.weight)
    model.eval()
    for b in (1, 4):
        with model.at_rank(b), loaded.at_rank(b):
            assert torch.equal(logits(model, input_ids), logits(loaded, input_ids))
    trainable = DyLoRAModel.from_pretrained(make_tiny_bert(), tmp_path, is_trainable=True, rank=1)
    assert trainable.rank == 1
    assert (
        trainable.trainable_parameter_summary().trainable
        == model.trainable_parameter_summary().trainable
    )


def test_load_refuses_wrong_base_and_bad_dirs(tmp_path):
    model = wrap()
    model.save_pretrained(tmp_path / "a")
    with pytest.raises(
        UserError,
        match=r"'bert.encoder.layer.0.attention.self.query' has shape \(out, in\)=\(48, 48\) in this base model but \(32, 32\)",
    ):
        DyLoRAModel.from_pretrained(make_tiny_bert(hidden=48), tmp_path / "a")
    with pytest.raises(UserError, match="is not a folder"):
        DyLoRAModel.from_pretrained(make_tiny_bert(), tmp_path / "none")
    (tmp_path / "a" / "adapter_model.safetensors").unlink()
    with pytest.raises(UserError, match=r"has no adapter_model.safetensors"):
        DyLoRAModel.from_pretrained(make_tiny_bert(), tmp_path / "a")
    model.export_peft(tmp_path / "p", rank=2)
    with pytest.raises(UserError, match="holds adapter_type 'LORA', not 'dylora'"):
        DyLoRAModel.from_pretrained(make_tiny_bert(), tmp_path / "p")


def test_evaluate_ranks_restores_state(input_ids):
    model = wrap()
    model.train()
    model.sample_rank(3)
    before = model.rank
    table = evaluate_ranks(
        model, lambda m: {"mean": m(input_ids=input_ids).logits.mean().item()}, [1, 2, 4]
    )
    assert list(table) == [1, 2, 4] and model.training and model.rank == before
    assert len({round(v["mean"], 6) for v in table.values()}) == 3


def test_strict_freeze_keeps_inactive_rows_bit_identical(input_ids):
    labels = torch.tensor([0, 1, 2, 0])

    def run(strict: bool, mode: str):
        model = wrap(strict_freeze=strict, update_mode=mode)
        model.train()
        opt = torch.optim.AdamW(
            [p for p in model.parameters() if p.requires_grad], lr=1e-2, weight_decay=0.1
        )
        for step, b in enumerate([4, 3, 1, 4, 2]):  # momentum on every row first
            model.sample_rank(step)
            model.set_rank(b) if not strict else model._set_all(b)
            before = {
                n: (la.lora_A.weight.detach().clone(), la.lora_B.weight.detach().clone())
                for n, la in model.dylora_layers.items()
            }
            model(input_ids=input_ids, labels=labels).loss.backward()
            opt.step()
            opt.zero_grad()
            if strict:
                model.restore_inactive_rows()
        return model, before, b

    for mode, active in (("frozen", [1]), ("all", [0, 1])):
        model, before, _ = run(True, mode)
        inactive = [r for r in range(4) if r not in active]
        for name, layer in model.dylora_layers.items():
            a0, b0 = before[name]
            assert torch.equal(layer.lora_A.weight[inactive], a0[inactive])
            assert torch.equal(layer.lora_B.weight[:, inactive], b0[:, inactive])
            assert not torch.equal(layer.lora_A.weight[active], a0[active])
    # negative control: without strict_freeze AdamW moves the "frozen" rows (the pitfall)
    model, before, _ = run(False, "frozen")
    layer = next(iter(model.dylora_layers.values()))
    a0, _ = before[next(iter(model.dylora_layers))]
    assert not torch.equal(layer.lora_A.weight[[0, 2, 3]], a0[[0, 2, 3]])


def test_restore_needs_strict_freeze():
    with pytest.raises(UserError, match="strict_freeze"):
        wrap().restore_inactive_rows()


def test_adapter_saved_by_dylora_0_1_loads(tmp_path, input_ids):
    """A folder in the layout dylora 0.1.0 wrote (config fields first, then metadata) loads."""
    from safetensors.torch import save_file

    model = wrap(eval_rank=2)
    model.eval()
    for p in model.parameters():  # compared frozen, as the loaded copy is
        p.requires_grad_(False)
    expected = logits(model, input_ids)
    folder = tmp_path / "old"
    folder.mkdir()
    tensors = {
        f"base_model.model.{n}.{p}.weight": getattr(layer, p).weight.detach().clone()
        for n, layer in model.dylora_layers.items()
        for p in ("lora_A", "lora_B")
    }
    for key, value in model.model.classifier.state_dict().items():
        tensors[f"base_model.model.classifier.{key}"] = value.clone()
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    old = {
        "r_max": 4,
        "r_min": 1,
        "alpha": 16.0,
        "dropout": 0.0,
        "target_modules": QV,
        "exclude_modules": None,
        "modules_to_save": ["classifier"],
        "update_mode": "frozen",
        "strict_freeze": False,
        "rank_distribution": "uniform",
        "geometric_p": 0.15,
        "sampling_scope": "global",
        "scaling": "alpha_over_b",
        "init": "kaiming",
        "eval_rank": 2,
        "seed": 0,
        "adapter_type": "dylora",
        "base_model_name_or_path": None,
        "target_shapes": {n: [32, 32] for n in model.dylora_layers},
        "library_version": "0.1.0",
    }
    (folder / "adapter_config.json").write_text(json.dumps(old))
    loaded = DyLoRAModel.from_pretrained(make_tiny_bert(), folder)
    assert loaded.rank == 2 and loaded.adapter_config == model.adapter_config
    assert torch.equal(logits(loaded, input_ids), expected)
    (folder / "adapter_config.json").write_text(json.dumps({**old, "r_maxx": 4}))
    with pytest.raises(UserError, match=r"unknown key.*'r_maxx'"):
        DyLoRAModel.from_pretrained(make_tiny_bert(), folder)


def test_one_api_with_krona_names(input_ids, tmp_path):
    """merge_adapter/unmerge_adapter/disable_adapter/adapter_config: the template's names."""
    model = wrap()
    model.eval()
    assert model.dylora_config is model.adapter_config
    assert model.dylora_layers == model.adapter_layers()
    with model.at_rank(3):
        expected = logits(model, input_ids)
    model.merge_adapter(3)
    assert model.merged and model.rank == 3
    torch.testing.assert_close(logits(model, input_ids), expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(UserError, match="unmerge_adapter"):
        model.save_pretrained(tmp_path)
    with pytest.raises(UserError, match="unmerge_adapter"), model.disable_adapter():
        pass
    with pytest.raises(UserError, match="merged at another rank"):
        model.merge_and_unload(rank=2)
    model.unmerge_adapter()
    assert not model.merged
    with model.disable_adapter() as same:
        assert same is model
