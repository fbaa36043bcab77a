"""ReGLA attention (spec (d)), a softmax attention layer with a KV cache, and their norms.

Shapes: hidden states ``(B, T, D)``; per head q/k ``(B, T, H, K)``, v ``(B, T, H, V)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from torch import nn

from regla.config import ReGLAConfig, variance_alpha
from regla.functional import elu1, gla_chunk, gla_parallel, gla_recurrent, refine_gate, safe_exp

__all__ = ["RMSNorm", "ReGLAAttention", "ReGLAState", "SoftmaxAttention", "apply_rope"]


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2, -1) + eps) * weight over the last axis (size ``dim``)."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        out = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return out.to(x.dtype) * self.weight


def apply_rope(x: torch.Tensor, offset: int = 0, base: float = 10000.0) -> torch.Tensor:
    """Rotary positions (rotate-half) on ``x (B, T, H, d)`` for positions offset .. offset+T-1."""
    T, d = x.shape[1], x.shape[-1]
    inv = 1.0 / base ** (torch.arange(0, d, 2, dtype=torch.float64, device=x.device) / d)
    pos = torch.arange(offset, offset + T, dtype=torch.float64, device=x.device)
    ang = torch.outer(pos, inv)
    cos = torch.cat([ang.cos(), ang.cos()], -1).to(x.dtype)[None, :, None]
    sin = torch.cat([ang.sin(), ang.sin()], -1).to(x.dtype)[None, :, None]
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return x * cos + torch.cat([-x2, x1], -1) * sin


@dataclass
class ReGLAState:
    """What a ReGLA layer carries between calls (decoding).

    Attributes:
        S: ``(B, H, K, V)`` recurrent state (``V + 1`` columns with ``norm="denominator"``).
        key_max: ``(B, 1, H, 1)`` running key max of safe-exp (``key_max="sequence"``), else None.
        seen: tokens consumed so far (the next RoPE position).
    """

    S: torch.Tensor
    key_max: torch.Tensor | None
    seen: int


def _check_mask(attention_mask: torch.Tensor | None, B: int, T: int) -> torch.Tensor | None:
    if attention_mask is None:
        return None
    if attention_mask.dim() != 2:
        raise UserError(
            f"attention_mask: must be a 2-D (B, T) 0/1 padding mask (4-D masks are not supported), "
            f"got shape {tuple(attention_mask.shape)}"
        )
    if tuple(attention_mask.shape) != (B, T):
        raise UserError(
            f"attention_mask: must be (B, T) = {(B, T)}, got {tuple(attention_mask.shape)}"
        )
    return attention_mask.bool()


class ReGLAAttention(nn.Module):
    """ReGLA: S_t = (F_t 1^T) * S_{t-1} + phi(k_t) v_t^T, o_t = Norm(S_t^T phi(q_t)), y_t = W_o o_t.

    Spec (d); F_t the refining gate (section 3(c)), phi the safe-exp map (3(a)), Norm the
    per-head RMSNorm (3(b)). Other options (GLA's sigmoid gate, RFA's scalar gate, plain
    linear attention, ReLU / ELU+1 features, the classic denominator) come from the config.
    """

    def __init__(self, config: ReGLAConfig, layer_idx: int = 0) -> None:
        super().__init__()
        self.config = c = config
        self.layer_idx = layer_idx
        D, H, K, V = c.hidden_size, c.num_heads, c.head_k_dim, c.head_v_dim
        self.q_proj = nn.Linear(D, H * K, bias=c.qkv_bias)
        self.k_proj = nn.Linear(D, H * K, bias=c.qkv_bias)
        self.v_proj = nn.Linear(D, H * V, bias=c.qkv_bias)
        self.o_proj = nn.Linear(H * V, D, bias=False)
        gate_out = {"refine": H * K, "sigmoid": H * K, "scalar": H, "none": 0}[c.gate]
        if gate_out:
            self.g_proj = self._gate_proj(D, gate_out, c.gate_rank, c.gate_bias_init)
        if c.gate == "refine":
            self.r_proj = self._gate_proj(D, gate_out, c.gate_rank, c.refine_bias_init)
        if c.output_gate == "swish":
            self.og_proj = nn.Linear(D, H * V, bias=False)
        if c.norm in ("rmsnorm", "layernorm"):
            width = V if c.norm_scope == "head" else H * V
            if c.norm == "rmsnorm":
                self.norm = RMSNorm(width, eps=c.norm_eps)
            else:
                self.norm = nn.LayerNorm(width, eps=c.norm_eps)

    @staticmethod
    def _gate_proj(d_in: int, d_out: int, rank: int | None, bias: float) -> nn.Module:
        last = nn.Linear(rank or d_in, d_out, bias=True)
        nn.init.constant_(last.bias, bias)
        if rank is None:
            return last
        return nn.Sequential(nn.Linear(d_in, rank, bias=False), last)

    # -- pieces -----------------------------------------------------------------
    def _features(self, q, k, mask, state):
        c = self.config
        kmax = None
        if c.feature_map == "safe_exp":
            if c.variance_scale == "logit_temperature":
                t = c.head_k_dim**-0.25
                q, k = q * t, k * t
            q, _ = safe_exp(q, "feature")
            if c.key_max == "sequence":
                run = state.key_max if state is not None else None
                k, kmax = safe_exp(k, "sequence", running_max=run, mask=mask)
            else:
                k, _ = safe_exp(k, "feature")
        elif c.feature_map == "relu":
            q, k = F.relu(q), F.relu(k)
        elif c.feature_map == "elu1":
            q, k = elu1(q), elu1(k)
        return q, k, kmax

    def log_gates(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Log forget gates ``(B, T, H, K)`` and, for the scalar gate, the (1 - g) input scale ``(B, T, H, 1)``."""
        c = self.config
        B, T, _ = x.shape
        H, K = c.num_heads, c.head_k_dim
        if c.gate == "refine":
            log_f = refine_gate(self.g_proj(x), self.r_proj(x)) / c.gate_logit_normalizer
        elif c.gate == "sigmoid":
            log_f = F.logsigmoid(self.g_proj(x)) / c.gate_logit_normalizer
        elif c.gate == "scalar":
            a = self.g_proj(x)  # (B, T, H)
            log_f = (F.logsigmoid(a) / c.gate_logit_normalizer)[..., None].expand(B, T, H, K)
            return log_f.reshape(B, T, H, K), torch.sigmoid(-a)[..., None]
        else:
            return x.new_zeros(B, T, H, K), None
        return log_f.view(B, T, H, K), None

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        state: ReGLAState | None = None,
        use_cache: bool = False,
    ) -> tuple[torch.Tensor, ReGLAState | None]:
        """Args:
            hidden_states: ``(B, T, D)``.
            attention_mask: ``(B, T)`` 1 for tokens, 0 for padding (padding leaves the state
                unchanged), or None.
            state: the state returned by a previous call (streaming / decoding).
            use_cache: return the new state.

        Returns:
            ``(y (B, T, D), ReGLAState | None)``.
        """
        c = self.config
        if hidden_states.dim() != 3 or hidden_states.shape[-1] != c.hidden_size:
            raise UserError(
                f"hidden_states: must be (B, T, {c.hidden_size}), got {tuple(hidden_states.shape)}"
            )
        x = hidden_states
        B, T, _ = x.shape
        H, K, V = c.num_heads, c.head_k_dim, c.head_v_dim
        mask = _check_mask(attention_mask, B, T)
        q = self.q_proj(x).view(B, T, H, K)
        k = self.k_proj(x).view(B, T, H, K)
        v = self.v_proj(x).view(B, T, H, V)
        seen = state.seen if state is not None else 0
        if c.use_rope:
            q, k = apply_rope(q, seen), apply_rope(k, seen)
        q, k, kmax = self._features(q, k, mask, state)
        log_f, in_scale = self.log_gates(x)
        if in_scale is not None:
            k = k * in_scale
        if mask is not None:
            m = mask[:, :, None, None].to(k.dtype)
            k, log_f = k * m, log_f * m
        if c.norm == "denominator":
            v = torch.cat([v, torch.ones_like(v[..., :1])], dim=-1)
        s0 = state.S if state is not None else None
        if s0 is not None and kmax is not None and state.key_max is not None:
            s0 = s0 * torch.exp(state.key_max - kmax).transpose(1, 2).to(s0.dtype)
        o, s_new = self._form(q, k, v, log_f, s0, use_cache)
        if c.norm == "denominator":
            o = o[..., :V] / (o[..., V:] + c.norm_eps)
        if c.variance_scale == "score":
            o = o * variance_alpha(K)
        if c.norm in ("rmsnorm", "layernorm"):
            o = self.norm(o) if c.norm_scope == "head" else self.norm(o.reshape(B, T, H * V))
        o = o.reshape(B, T, H * V)
        if c.output_gate == "swish":
            o = o * F.silu(self.og_proj(x))
        y = self.o_proj(o)
        new_state = ReGLAState(s_new, kmax, seen + T) if use_cache else None
        return y, new_state

    def _form(self, q, k, v, log_f, s0, use_cache):
        c = self.config
        if s0 is not None and s0.dtype != torch.float64 and q.dtype == torch.float64:
            s0 = s0.double()
        if c.mode == "recurrent" or (c.mode == "chunk" and q.shape[1] == 1):
            return gla_recurrent(q, k, v, log_f, 1.0, s0, use_cache)
        if c.mode == "parallel":
            return gla_parallel(q, k, v, log_f, 1.0, s0, use_cache)
        return gla_chunk(q, k, v, log_f, 1.0, s0, use_cache, c.chunk_size, c.resolved_sub_chunk)


class SoftmaxAttention(nn.Module):
    """Causal softmax attention (eq. 1) with RoPE and a KV cache ``(k, v)``, each ``(B, H, T, d)``."""

    def __init__(self, hidden_size: int, num_heads: int, layer_idx: int = 0) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise UserError(f"num_heads: must divide hidden_size={hidden_size}, got {num_heads}")
        self.num_heads, self.head_dim, self.layer_idx = (
            num_heads,
            hidden_size // num_heads,
            layer_idx,
        )
        self.q_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.k_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.v_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.o_proj = nn.Linear(hidden_size, hidden_size, bias=False)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
        use_cache: bool = False,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
        """``hidden_states (B, T, D)`` -> ``(y (B, T, D), (k, v) cache | None)``."""
        B, T, D = hidden_states.shape
        H, d = self.num_heads, self.head_dim
        mask = _check_mask(attention_mask, B, T)
        past = state[0].shape[2] if state is not None else 0
        q = apply_rope(self.q_proj(hidden_states).view(B, T, H, d), past).transpose(1, 2)
        k = apply_rope(self.k_proj(hidden_states).view(B, T, H, d), past).transpose(1, 2)
        v = self.v_proj(hidden_states).view(B, T, H, d).transpose(1, 2)
        if state is not None:
            k, v = torch.cat([state[0], k], 2), torch.cat([state[1], v], 2)
        L = k.shape[2]
        if mask is None and past == 0:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            allow = torch.ones(T, L, dtype=torch.bool, device=q.device).tril(past)[None, None]
            if mask is not None:
                keys = torch.cat([torch.ones(B, past, dtype=torch.bool, device=q.device), mask], 1)
                allow = allow & keys[:, None, None, :]
                allow = allow | ~allow.any(-1, keepdim=True)  # fully padded rows: no NaN
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=allow)
        y = self.o_proj(o.transpose(1, 2).reshape(B, T, D))
        return y, ((k, v) if use_cache else None)
