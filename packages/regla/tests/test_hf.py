"""Linearising a tiny Hugging Face Llama built from a config (no hub)."""

import pytest
import torch
from papershelf.errors import UserError
from papershelf.models import tiny_decoder_config
from regla.config import ReGLAConfig
from regla.hf import HFReGLAAttention, linearize, linearized_layers
from transformers import GPT2LMHeadModel, LlamaForCausalLM


def _llama(**kw):
    torch.manual_seed(0)
    cfg = tiny_decoder_config(
        "llama", vocab_size=64, num_hidden_layers=4, num_key_value_heads=2, **kw
    )
    return LlamaForCausalLM(cfg).eval()


def test_linearize_copies_projections_and_keeps_softmax_layers():
    ref = _llama()
    model = _llama()
    linearize(model, ReGLAConfig(chunk_size=8), "alternate")
    assert model.regla_layers == [1, 3]
    for i, layer in enumerate(model.model.layers):
        old = ref.model.layers[i].self_attn
        if i % 2:
            new = layer.self_attn.regla
            assert isinstance(layer.self_attn, HFReGLAAttention)
            assert torch.equal(new.q_proj.weight, old.q_proj.weight)
            assert torch.equal(new.o_proj.weight, old.o_proj.weight)
            # 2 KV heads for 4 query heads: each KV head repeated for its group
            k = old.k_proj.weight.view(2, 16, 64)
            assert torch.equal(new.k_proj.weight.view(4, 16, 64)[1], k[0])
            assert torch.equal(
                new.v_proj.weight.view(4, 16, 64)[2], old.v_proj.weight.view(2, 16, 64)[1]
            )
        else:
            for (n1, p1), (n2, p2) in zip(
                layer.named_parameters(), ref.model.layers[i].named_parameters(), strict=True
            ):
                assert n1 == n2 and torch.equal(p1, p2)


def test_linearized_model_runs_finite_and_generates_with_its_cache():
    model = linearize(_llama(), ReGLAConfig(chunk_size=8), "all")
    ids = torch.randint(0, 64, (2, 13))
    logits = model(ids).logits
    assert logits.shape == (2, 13, 64) and torch.isfinite(logits).all()
    a = model.generate(ids[:1, :5], max_new_tokens=6, do_sample=False, use_cache=True)
    b = model.generate(ids[:1, :5], max_new_tokens=6, do_sample=False, use_cache=False)
    assert torch.equal(a, b)
    loss = model(ids, labels=ids).loss
    loss.backward()
    assert model.model.layers[0].self_attn.regla.r_proj.weight.grad is not None


def test_bad_models_and_layers():
    gpt2 = GPT2LMHeadModel(tiny_decoder_config("gpt2", vocab_size=64))
    with pytest.raises(UserError, match="supported"):
        linearize(gpt2)
    empty = _llama()
    empty.model.layers = torch.nn.ModuleList()
    with pytest.raises(UserError, match="no attention layers"):
        linearize(empty)
    with pytest.raises(UserError, match="layers"):
        linearized_layers([7], 4)
    with pytest.raises(UserError, match="layers"):
        linearized_layers("odd", 4)
