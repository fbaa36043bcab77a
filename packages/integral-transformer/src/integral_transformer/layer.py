"""Attention modules with one signature: Vanilla, Integral, Diff and Cog.

``forward(x (B, T, d), position_ids (B, T), attention_mask (B, T) bool | None,
output_attentions=False) -> (y (B, T, d), weights (B, heads, T, T) | None)``.
Projection names follow Llama (``q_proj``, ``k_proj``, ``v_proj``, ``o_proj``, no bias), so
weights copy to and from a Hugging Face Llama layer.
"""

from __future__ import annotations

import torch
from torch import nn

from integral_transformer.config import IntegralConfig, check_signals
from integral_transformer.functional import (
    apply_rope,
    cog_attention,
    cog_weights,
    diff_lambda_init,
    integral_attention,
    integral_weights,
    rope_cos_sin,
    signal_rope,
    vanilla_attention,
)

__all__ = ["CogAttention", "DiffAttention", "IntegralAttention", "RMSNorm", "VanillaAttention"]


class RMSNorm(nn.Module):
    """Llama's RMSNorm: ``w * x / sqrt(mean(x^2) + eps)`` over the last dim."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class _Projections(nn.Module):
    def __init__(
        self, hidden_size: int, num_heads: int, num_kv_heads: int | None, layer_idx: int = 0
    ) -> None:
        super().__init__()
        num_kv_heads = num_kv_heads or num_heads
        if hidden_size % num_heads or num_heads % num_kv_heads:
            raise ValueError(
                f"num_heads: must divide hidden_size {hidden_size} and be a multiple of "
                f"num_kv_heads {num_kv_heads}, got {num_heads}"
            )
        self.hidden_size, self.num_heads, self.num_kv_heads = hidden_size, num_heads, num_kv_heads
        self.head_dim = hidden_size // num_heads
        self.layer_idx = layer_idx
        kv_dim = num_kv_heads * self.head_dim
        self.q_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.k_proj = nn.Linear(hidden_size, kv_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, kv_dim, bias=False)
        self.o_proj = nn.Linear(hidden_size, hidden_size, bias=False)

    def qkv(self, x: torch.Tensor, k_heads: int | None = None, v_heads: int | None = None):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, -1, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, -1, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, -1, self.head_dim).transpose(1, 2)
        return q, k, v

    def out(self, o: torch.Tensor) -> torch.Tensor:
        b, _, t, _ = o.shape
        return self.o_proj(o.transpose(1, 2).reshape(b, t, -1))


class VanillaAttention(_Projections):
    """softmax(Q K^T / sqrt(head_dim)) V with head-level RoPE (eqs. 2-3)."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        num_kv_heads: int | None = None,
        rope_theta: float = 10000.0,
        layer_idx: int = 0,
    ) -> None:
        super().__init__(hidden_size, num_heads, num_kv_heads, layer_idx)
        self.rope_theta = rope_theta

    def forward(self, x, position_ids, attention_mask=None, output_attentions=False):
        q, k, v = self.qkv(x)
        cos, sin = rope_cos_sin(position_ids, self.head_dim, self.rope_theta, x.dtype)
        if output_attentions:
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
            w = integral_weights(q, k, 1, None, True, attention_mask)
            return self.out(w @ v.repeat_interleave(q.shape[1] // v.shape[1], 1)), w
        return self.out(vanilla_attention(q, k, v, (cos, sin), True, attention_mask)), None


class IntegralAttention(_Projections):
    """Integral attention (eqs. 6-8): the same parameters as vanilla attention; each head's q/k
    split into S signals of d_h = head_dim / S, logits averaged, one softmax, full-width V."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        num_kv_heads: int | None = None,
        config: IntegralConfig | None = None,
        layer_idx: int = 0,
    ) -> None:
        super().__init__(hidden_size, num_heads, num_kv_heads, layer_idx)
        self.config = config or IntegralConfig()
        check_signals(self.head_dim, self.config.num_signals, self.config.rope_mode)

    def forward(self, x, position_ids, attention_mask=None, output_attentions=False):
        cfg = self.config
        q, k, v = self.qkv(x)
        if cfg.rope_mode == "signal":
            cos_sin = signal_rope(
                position_ids, self.head_dim, cfg.num_signals, cfg.rope_theta, x.dtype
            )
        else:
            cos, sin = rope_cos_sin(position_ids, self.head_dim, cfg.rope_theta, x.dtype)
            q, k, cos_sin = apply_rope(q, cos, sin), apply_rope(k, cos, sin), None
        args = (cfg.num_signals, cos_sin, True, attention_mask, cfg.signal_space)
        if output_attentions:
            w = integral_weights(q, k, *args)
            return self.out(w @ v.repeat_interleave(q.shape[1] // v.shape[1], 1)), w
        return self.out(integral_attention(q, k, v, *args)), None


class CogAttention(VanillaAttention):
    """Cog attention (eq. 4): weights ``sign(QK^T) softmax(|QK^T|)``, head-level RoPE."""

    def forward(self, x, position_ids, attention_mask=None, output_attentions=False):
        q, k, v = self.qkv(x)
        cos, sin = rope_cos_sin(position_ids, self.head_dim, self.rope_theta, x.dtype)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if output_attentions:
            w = cog_weights(q, k, True, attention_mask)
            return self.out(w @ v.repeat_interleave(q.shape[1] // v.shape[1], 1)), w
        return self.out(cog_attention(q, k, v, True, attention_mask)), None


class DiffAttention(nn.Module):
    """Differential attention (eq. 5), laid out as the official ``MultiheadDiffAttn``.

    ``num_heads`` is the vanilla model's head count; Diff uses ``num_heads // 2`` heads, each
    with two half-heads of ``head_dim = hidden / num_heads`` for q/k and a V of
    ``2 * head_dim``: ``(softmax(Q1 K1^T) - lambda softmax(Q2 K2^T)) V``, then a per-head
    RMSNorm over ``2 * head_dim`` and ``x (1 - lambda_init)``.
    ``lambda = exp(lq1 . lk1) - exp(lq2 . lk2) + lambda_init``,
    ``lambda_init = 0.8 - 0.6 exp(-0.3 layer_idx)``; lambda vectors init N(0, 0.1).
    """

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        num_kv_heads: int | None = None,
        rope_theta: float = 10000.0,
        layer_idx: int = 0,
    ) -> None:
        super().__init__()
        num_kv_heads = num_kv_heads or num_heads
        if num_heads % 2 or hidden_size % num_heads:
            raise ValueError(f"num_heads: must be even and divide hidden_size, got {num_heads}")
        if num_kv_heads % 2 or num_heads % num_kv_heads:
            raise ValueError(f"num_kv_heads: must be even and divide num_heads, got {num_kv_heads}")
        self.num_heads = num_heads // 2
        self.num_kv_heads = num_kv_heads // 2
        self.head_dim = hidden_size // num_heads
        self.rope_theta = rope_theta
        self.layer_idx = layer_idx
        self.lambda_init = diff_lambda_init(layer_idx)
        kv_dim = num_kv_heads * self.head_dim
        self.q_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.k_proj = nn.Linear(hidden_size, kv_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, kv_dim, bias=False)
        self.o_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.lambda_q1 = nn.Parameter(torch.normal(0.0, 0.1, (self.head_dim,)))
        self.lambda_k1 = nn.Parameter(torch.normal(0.0, 0.1, (self.head_dim,)))
        self.lambda_q2 = nn.Parameter(torch.normal(0.0, 0.1, (self.head_dim,)))
        self.lambda_k2 = nn.Parameter(torch.normal(0.0, 0.1, (self.head_dim,)))
        self.subln = RMSNorm(2 * self.head_dim, eps=1e-5)

    def lam(self) -> torch.Tensor:
        """The re-parameterised lambda (a scalar tensor)."""
        l1 = torch.exp(torch.sum(self.lambda_q1 * self.lambda_k1))
        l2 = torch.exp(torch.sum(self.lambda_q2 * self.lambda_k2))
        return l1 - l2 + self.lambda_init

    def forward(self, x, position_ids, attention_mask=None, output_attentions=False):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, 2 * self.num_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, 2 * self.num_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.num_kv_heads, 2 * self.head_dim).transpose(1, 2)
        cos, sin = rope_cos_sin(position_ids, self.head_dim, self.rope_theta, x.dtype)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        lam = self.lam()
        q1, q2, k1, k2 = q[:, 0::2], q[:, 1::2], k[:, 0::2], k[:, 1::2]
        weights = None
        if output_attentions:
            w1 = integral_weights(q1, k1, 1, None, True, attention_mask)
            w2 = integral_weights(q2, k2, 1, None, True, attention_mask)
            weights = w1 - lam * w2
            o = weights @ v.repeat_interleave(self.num_heads // self.num_kv_heads, 1)
        else:
            o = vanilla_attention(q1, k1, v, None, True, attention_mask) - lam * vanilla_attention(
                q2, k2, v, None, True, attention_mask
            )
        o = self.subln(o) * (1.0 - self.lambda_init)
        return self.o_proj(o.transpose(1, 2).reshape(b, t, -1)), weights


def make_attention(
    kind: str, hidden_size, num_heads, num_kv_heads, integral: IntegralConfig, layer_idx
):
    """The attention module of one layer (``vanilla``, ``integral``, ``diff`` or ``cog``)."""
    if kind == "integral":
        return IntegralAttention(hidden_size, num_heads, num_kv_heads, integral, layer_idx)
    cls = {"vanilla": VanillaAttention, "diff": DiffAttention, "cog": CogAttention}[kind]
    return cls(hidden_size, num_heads, num_kv_heads, integral.rope_theta, layer_idx)
