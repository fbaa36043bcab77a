"""PosGenDecoder: shapes, causality, eval-time RoPE switch."""

from __future__ import annotations

import pytest
import torch
from papershelf.errors import UserError
from resonance_rope import RopeConfig
from resonance_rope.config import DecoderConfig
from resonance_rope.model import PosGenDecoder

YARN = RopeConfig(32, rope_type="yarn", factor=4.0, original_max_position_embeddings=64)


def test_forward_shape_and_causality():
    torch.manual_seed(0)
    model = PosGenDecoder(DecoderConfig(), RopeConfig(32, rope_type="resonance")).eval()
    x = torch.randint(0, 18, (2, 30))
    logits = model(x)
    assert logits.shape == (2, 30, 18)
    y = x.clone()
    y[:, 20:] = (y[:, 20:] + 1) % 18
    torch.testing.assert_close(model(y)[:, :20], logits[:, :20])


def test_eval_rope_only_in_eval_mode():
    torch.manual_seed(0)
    model = PosGenDecoder(DecoderConfig(), RopeConfig(32), eval_rope=YARN)
    model.train()
    assert model.active_rotary() is model.rotary
    model.eval()
    assert model.active_rotary() is model.eval_rotary
    x = torch.randint(0, 18, (1, 100))
    plain = PosGenDecoder(DecoderConfig(), RopeConfig(32))
    plain.load_state_dict(model.state_dict())
    plain.eval()
    with torch.no_grad():
        assert not torch.allclose(model(x), plain(x))
        model.train()
        torch.testing.assert_close(model(x), plain(x))  # dropout 0: train mode never sees YaRN


def test_head_dim_mismatch_is_refused():
    with pytest.raises(UserError, match="head_dim"):
        PosGenDecoder(DecoderConfig(), RopeConfig(16))
