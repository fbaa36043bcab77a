"""The registered HF attention against our module wired in by hand (IntegralLM with the
same weights), cached generation, placement, bad input.

Tolerance: transformers' LlamaRMSNorm and rotary tables compute in float32 even in a float64
model, so agreement is ~1e-7, not 1e-12; a wrong rotary layout or scale differs by ~1e-2
(``test_not_temperature_only``).
"""

import pytest
import torch
from integral_transformer.config import IntegralConfig, LMConfig
from integral_transformer.hf import apply_integral, copy_llama_weights
from integral_transformer.model import IntegralLM
from papershelf.errors import UserError
from papershelf.models import tiny_decoder_config
from transformers import LlamaForCausalLM


def _pair(num_signals=2, layers="top_half", rope_mode="signal", signal_space="logit", kv=2):
    torch.manual_seed(0)
    cfg = tiny_decoder_config(
        vocab_size=64,
        hidden_size=64,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=kv,
        intermediate_size=96,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
    )
    hf = LlamaForCausalLM(cfg).double().eval()
    icfg = IntegralConfig(num_signals, layers, rope_mode, signal_space)
    apply_integral(hf, icfg)
    lm = IntegralLM(
        LMConfig(
            vocab_size=64,
            hidden_size=64,
            num_layers=4,
            num_heads=4,
            num_kv_heads=kv,
            intermediate_size=96,
            attention="integral",
            placement=layers,
            num_signals=num_signals,
            rope_mode=rope_mode,
            signal_space=signal_space,
        )
    ).double()
    copy_llama_weights(hf, lm)
    return hf, lm.eval()


@pytest.mark.parametrize(
    ("num_signals", "layers", "rope_mode", "signal_space"),
    [
        (2, "top_half", "signal", "logit"),
        (4, "all", "signal", "logit"),
        (2, "bottom_half", "head", "logit"),
        (2, "top_half", "signal", "prob"),
    ],
)
def test_registered_attention_equals_our_module(num_signals, layers, rope_mode, signal_space):
    hf, lm = _pair(num_signals, layers, rope_mode, signal_space)
    ids = torch.randint(0, 64, (2, 11))
    with torch.no_grad():
        ours = lm(ids)["logits"]
        theirs = hf(ids).logits
    torch.testing.assert_close(theirs, ours, rtol=1e-5, atol=1e-6)


def test_padding_matches_our_module():
    hf, lm = _pair()
    ids = torch.randint(0, 64, (2, 9))
    mask = torch.ones(2, 9, dtype=torch.long)
    mask[1, :3] = 0  # left padding
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        ours = lm(ids, attention_mask=mask, position_ids=pos)["logits"]
        theirs = hf(ids, attention_mask=mask, position_ids=pos).logits
    real = mask.bool()
    torch.testing.assert_close(theirs[real], ours[real], rtol=1e-5, atol=1e-6)


def test_cached_decoding_equals_full_forward():
    """Token-by-token decoding with the KV cache gives the full forward's logits."""
    hf, _ = _pair()
    ids = torch.randint(0, 64, (1, 9))
    with torch.no_grad():
        full = hf(ids).logits
        out = hf(ids[:, :5], use_cache=True)
        cache = out.past_key_values
        steps = [out.logits[:, -1]]
        for t in range(5, 9):
            out = hf(ids[:, t : t + 1], cache=cache, use_cache=True)
            cache = out.past_key_values
            steps.append(out.logits[:, -1])
    torch.testing.assert_close(torch.stack(steps, 1), full[:, 4:], rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        gen = hf.generate(ids[:, :5], max_new_tokens=3, do_sample=False, pad_token_id=0)
        assert torch.equal(hf(gen).logits[0, 4:-1].argmax(-1), gen[0, 5:])


def test_not_temperature_only():
    """Per-signal RoPE must change the function beyond the sqrt(S) temperature."""
    hf_sig, _ = _pair(rope_mode="signal", layers="all")
    hf_head, _ = _pair(rope_mode="head", layers="all")
    ids = torch.randint(0, 64, (1, 12))
    with torch.no_grad():
        diff = (hf_sig(ids).logits - hf_head(ids).logits).abs().max()
    assert diff > 1e-6


def test_state_dict_and_parameters_unchanged():
    torch.manual_seed(0)
    hf = LlamaForCausalLM(tiny_decoder_config(vocab_size=64, num_hidden_layers=4))
    keys = list(hf.state_dict())
    apply_integral(hf, IntegralConfig(num_signals=2))
    assert list(hf.state_dict()) == keys
    assert hf.config.integral_layers == [2, 3]


def test_bad_input():
    hf = LlamaForCausalLM(tiny_decoder_config(vocab_size=64, num_hidden_layers=4))  # head_dim 16
    with pytest.raises(UserError, match="num_signals"):
        apply_integral(hf, IntegralConfig(num_signals=3))
    with pytest.raises(UserError, match="even"):
        apply_integral(hf, IntegralConfig(num_signals=16))
    from transformers import GPT2LMHeadModel

    gpt2 = GPT2LMHeadModel(tiny_decoder_config("gpt2", vocab_size=64))
    with pytest.raises(UserError, match="supported"):
        apply_integral(gpt2, IntegralConfig(num_signals=2))
