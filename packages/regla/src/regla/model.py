"""A tiny causal LM built from ReGLA layers, with hybrid layouts that mix softmax layers (spec (g))."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from regla.config import LMConfig, ReGLAConfig
from regla.layer import ReGLAAttention, RMSNorm, SoftmaxAttention

__all__ = ["Block", "DecayRegressor", "ReGLALM", "count_params"]


def count_params(model: nn.Module) -> int:
    """Number of parameters (tied weights counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


class Block(nn.Module):
    """Pre-norm block: x + Attn(Norm(x)), then x + SwiGLU(Norm(x)). ``x (B, T, D)``."""

    def __init__(self, config: LMConfig, layer_type: str, layer_idx: int) -> None:
        super().__init__()
        D = config.hidden_size
        self.layer_type = layer_type
        self.attn_norm = RMSNorm(D)
        if layer_type == "regla":
            self.attn = ReGLAAttention(config.attention, layer_idx)
        else:
            self.attn = SoftmaxAttention(D, config.num_heads, layer_idx)
        self.mlp_norm = RMSNorm(D)
        width = config.mlp_ratio * D
        self.up = nn.Linear(D, 2 * width, bias=False)
        self.down = nn.Linear(width, D, bias=False)

    def forward(self, x, attention_mask=None, state=None, use_cache=False):
        a, state = self.attn(self.attn_norm(x), attention_mask, state, use_cache)
        x = x + a
        gate, up = self.up(self.mlp_norm(x)).chunk(2, dim=-1)
        return x + self.down(F.silu(gate) * up), state


class ReGLALM(nn.Module):
    """Embeddings, ``num_layers`` blocks per ``layer_types``, RMSNorm and a tied LM head.

    ``forward(input_ids (B, T), attention_mask (B, T) | None, states, use_cache)`` returns
    ``(logits (B, T, vocab), states | None)``: a ReGLA layer's state is a ``ReGLAState``,
    a softmax layer's is its ``(k, v)`` cache.
    """

    def __init__(self, config: LMConfig) -> None:
        super().__init__()
        self.config = config
        self.layer_types = config.resolved_layer_types()
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.blocks = nn.ModuleList(Block(config, t, i) for i, t in enumerate(self.layer_types))
        self.norm = RMSNorm(config.hidden_size)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        states: list[Any] | None = None,
        use_cache: bool = False,
    ) -> tuple[torch.Tensor, list[Any] | None]:
        x = self.embed(input_ids)
        new_states = []
        for i, block in enumerate(self.blocks):
            x, s = block(x, attention_mask, states[i] if states is not None else None, use_cache)
            new_states.append(s)
        logits = self.norm(x) @ self.embed.weight.T
        return logits, (new_states if use_cache else None)

    @torch.no_grad()
    def generate(self, input_ids: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
        """Greedy decoding with states (ReGLA) and KV caches (softmax): ``(B, T)`` -> ``(B, T + max_new_tokens)``."""
        logits, states = self(input_ids, use_cache=True)
        out = [input_ids]
        for _ in range(max_new_tokens):
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            out.append(nxt)
            logits, states = self(nxt, states=states, use_cache=True)
        return torch.cat(out, dim=1)


class DecayRegressor(nn.Module):
    """One gated-linear layer for the decay-memory task (claim C1): ``x (B, T, 4)`` -> ``(B, T, 4)``.

    Linear embed -> ReGLA attention (identity features, no norm in the C1 setup) -> linear read-out.
    """

    def __init__(self, attention: ReGLAConfig, d_in: int = 4) -> None:
        super().__init__()
        self.inp = nn.Linear(d_in, attention.hidden_size)
        self.attn = ReGLAAttention(attention)
        self.out = nn.Linear(attention.hidden_size, d_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.attn(self.inp(x))[0])
