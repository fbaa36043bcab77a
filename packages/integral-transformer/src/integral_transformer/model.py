"""``IntegralLM``: a small Llama-style decoder with one attention kind per layer.

Module names mirror Hugging Face's ``LlamaForCausalLM`` (``embed_tokens``, ``layers.i.self_attn.
q_proj``, ``input_layernorm``, ``mlp.gate_proj`` ...), so a Llama's weights load into it with
the ``model.`` prefix dropped (used to test the HF integration against this model).
"""

from __future__ import annotations

import torch
from torch import nn

from integral_transformer.config import LMConfig
from integral_transformer.layer import RMSNorm, make_attention

__all__ = ["IntegralLM", "default_positions"]


def default_positions(input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Positions ``(B, T)``: ``0..T-1``, or with a padding mask the count of real tokens
    before each one (left padding starts real tokens at 0, as HF ``generate`` does)."""
    b, t = input_ids.shape
    if attention_mask is None:
        return torch.arange(t, device=input_ids.device).expand(b, t)
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


class MLP(nn.Module):
    """SwiGLU: ``down(silu(gate(x)) * up(x))``."""

    def __init__(self, hidden: int, inner: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(hidden, inner, bias=False)
        self.up_proj = nn.Linear(hidden, inner, bias=False)
        self.down_proj = nn.Linear(inner, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, config: LMConfig, kind: str, layer_idx: int) -> None:
        super().__init__()
        self.kind = kind
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_eps)
        self.self_attn = make_attention(
            kind,
            config.hidden_size,
            config.num_heads,
            config.num_kv_heads,
            config.integral(),
            layer_idx,
        )
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_eps)
        self.mlp = MLP(config.hidden_size, config.intermediate_size)

    def forward(self, x, position_ids, attention_mask, output_attentions):
        a, w = self.self_attn(
            self.input_layernorm(x), position_ids, attention_mask, output_attentions
        )
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), w


class IntegralLM(nn.Module):
    """Decoder-only LM (pre-norm, RMSNorm, SwiGLU, RoPE, tied embeddings).

    ``forward(input_ids (B, T), attention_mask (B, T) | None, position_ids (B, T) | None,
    output_attentions=False, output_hidden_states=False) -> dict`` with ``logits (B, T, V)``,
    ``attentions`` (one ``(B, heads, T, T)`` map per layer) and ``hidden_states`` (the
    embedding output then each layer's output, ``(B, T, d)``) when asked.
    """

    def __init__(self, config: LMConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(
            Block(config, kind, i) for i, kind in enumerate(config.layer_kinds())
        )
        self.norm = RMSNorm(config.hidden_size, config.rms_eps)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.apply(self._init)
        if config.tie_embeddings:
            self.lm_head.weight = self.embed_tokens.weight

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        t = input_ids.shape[1]
        if t > self.config.max_positions:
            raise ValueError(
                f"input_ids: sequence length must be <= max_positions {self.config.max_positions}, got {t}"
            )
        if position_ids is None:
            position_ids = default_positions(input_ids, attention_mask)
        mask = None if attention_mask is None else attention_mask.bool()
        x = self.embed_tokens(input_ids)
        hidden, attns = [x], []
        for block in self.layers:
            x, w = block(x, position_ids, mask, output_attentions)
            hidden.append(x)
            attns.append(w)
        out: dict = {"logits": self.lm_head(self.norm(x))}
        if output_attentions:
            out["attentions"] = attns
        if output_hidden_states:
            out["hidden_states"] = hidden
        return out
