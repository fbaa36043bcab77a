"""The small decoder of the PosGen experiments (paper sec. 6.1: T5-style layers with RoPE).

Its sizes are a ``DecoderConfig`` (``resonance_rope.config``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from torch import nn

from resonance_rope.config import DecoderConfig, RopeConfig
from resonance_rope.rotary import RotaryEmbedding, apply_rotary


class RMSNorm(nn.Module):
    """T5 LayerNorm: x / rms(x) * weight, no mean subtraction, no bias."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Block(nn.Module):
    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.cfg = cfg
        self.norm1, self.norm2 = RMSNorm(cfg.d_model), RMSNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.out = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.ff_in = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.ff_out = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, layout: str
    ) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = (
            self.qkv(self.norm1(x)).view(b, t, 3, self.cfg.n_heads, self.cfg.head_dim).unbind(2)
        )
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B, H, T, D)
        q, k = apply_rotary(q, k, cos, sin, layout)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.drop(self.out(att.transpose(1, 2).reshape(b, t, -1)))
        return x + self.drop(self.ff_out(self.drop(F.relu(self.ff_in(self.norm2(x))))))


class PosGenDecoder(nn.Module):
    """Decoder-only LM with a swappable RoPE variant.

    Args:
        cfg: sizes.
        rope: the RoPE variant used in training (and in eval when ``eval_rope`` is None).
        eval_rope: the variant used when ``not self.training`` (the official code's switch:
            train with plain/Resonance RoPE, evaluate with YaRN on top).

    ``forward(tokens (B, T) int) -> logits (B, T, vocab_size)``.
    """

    def __init__(self, cfg: DecoderConfig, rope: RopeConfig, eval_rope: RopeConfig | None = None):
        super().__init__()
        for name, r in (("rope", rope), ("eval_rope", eval_rope)):
            if r is not None and r.head_dim != cfg.head_dim:
                raise UserError(
                    f"{name}.head_dim: {r.head_dim} differs from the model's head dim {cfg.head_dim}"
                )
        self.cfg, self.rope, self.eval_rope = cfg, rope, eval_rope
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.d_model)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.drop = nn.Dropout(cfg.dropout)
        self.rotary = RotaryEmbedding(rope, cfg.max_positions)
        self.eval_rotary = (
            RotaryEmbedding(eval_rope, cfg.max_positions) if eval_rope is not None else None
        )

    def active_rotary(self) -> RotaryEmbedding:
        """The rotary module of the current mode."""
        if not self.training and self.eval_rotary is not None:
            return self.eval_rotary
        return self.rotary

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        rotary = self.active_rotary()
        t = tokens.shape[1]
        x = self.drop(self.embed(tokens))
        cos, sin = rotary.table(t)
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
        for block in self.blocks:
            x = block(x, cos, sin, rotary.cfg.layout)
        return self.lm_head(self.norm(x))
