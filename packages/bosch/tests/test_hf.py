"""The "bosch_hybrid" attention in transformers models: oracles against transformers itself."""

import pytest
import torch
from bosch.hf import HFHybrid, apply_hybrid, load_hybrid, model_shape
from bosch.mask import HeadMask
from papershelf.errors import UserError


def _mistral(sliding_window=None, seed=0):
    from transformers import MistralConfig, MistralForCausalLM

    cfg = MistralConfig(
        vocab_size=50,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        sliding_window=sliding_window,
        attn_implementation="sdpa",
    )
    torch.manual_seed(seed)
    return MistralForCausalLM(cfg).double().eval()


@pytest.fixture(scope="module")
def ids():
    return torch.randint(0, 50, (2, 16), generator=torch.Generator().manual_seed(0))


def test_ratio_zero_is_bitwise_unchanged(ids):
    model = _mistral()
    ref = model(ids).logits
    apply_hybrid(model, HeadMask.zeros(2, 2), window=4)
    assert model.config._attn_implementation == "bosch_hybrid"
    assert torch.equal(model(ids).logits, ref)


def test_ratio_one_equals_transformers_sliding_window(ids):
    swa_ref = _mistral(sliding_window=5)  # transformers' own SWA, same weights (same seed)
    model = _mistral()
    apply_hybrid(model, HeadMask.ones(2, 2), window=5)
    torch.testing.assert_close(model(ids).logits, swa_ref(ids).logits)


def test_mixed_mask_layer_by_layer(ids):
    """A layer whose row is all SWA matches transformers' SWA layer; all-full rows match full."""
    full, swa = _mistral(), _mistral(sliding_window=5)
    model = _mistral()
    apply_hybrid(model, HeadMask([[1, 1], [0, 0]]), window=5)
    h = model.model.embed_tokens(ids)
    # compare the first layer's output against transformers' SWA model's first layer
    out = {}
    for name, m in (("hyb", model), ("swa", swa), ("full", full)):
        hs = m(ids, output_hidden_states=True).hidden_states
        out[name] = hs
    torch.testing.assert_close(out["hyb"][1], out["swa"][1])
    assert not torch.allclose(out["hyb"][1], out["full"][1])
    assert h.shape[-1] == 32


def test_generation_with_cache_equals_masked_forward(ids):
    model = _mistral(seed=3)
    apply_hybrid(model, HeadMask([[1, 0], [0, 1]]), window=3)
    prompt = ids[:1, :6]
    gen = model.generate(prompt, max_new_tokens=8, do_sample=False, min_new_tokens=8)
    logits = model(gen).logits
    assert torch.equal(logits[0, 5:-1].argmax(-1), gen[0, 6:])


def test_save_and_load_round_trip(tmp_path, ids):
    model = _mistral()
    apply_hybrid(model, HeadMask([[1, 0], [0, 1]]), window=4)
    ref = model(ids).logits
    model.save_pretrained(tmp_path)
    again = load_hybrid(tmp_path, dtype=torch.float64)
    assert again.config.bosch["swa"] == [[1, 0], [0, 1]]
    torch.testing.assert_close(again(ids).logits, ref)


def test_wrong_shape_and_adapter():
    model = _mistral()
    assert model_shape(model.config) == (2, 2)
    with pytest.raises(UserError, match="shape must be"):
        apply_hybrid(model, HeadMask.zeros(3, 2), window=4)
    wrapped = HFHybrid(model)
    assert (wrapped.num_layers, wrapped.num_kv_heads) == (2, 2)
