"""Slow, explicit references (test oracles) with the same parameter names as the fast ops.

Everything runs in float64 with Python loops over signals, heads and rotary pairs.
"""

from __future__ import annotations

import math

import torch

__all__ = ["naive_cog_attention", "naive_integral_attention"]


def _rotate_block(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the pairs ``(j, j + n/2)`` of ``x (..., T, n)`` by the angle whose cos/sin sit in
    column ``j`` of ``cos, sin (B, T, n)``: ``a' = a cos - b sin``, ``b' = b cos + a sin``."""
    n = x.shape[-1]
    out = x.clone()
    for j in range(n // 2):
        c, s = cos[:, None, :, j], sin[:, None, :, j]
        a, b = x[..., j], x[..., j + n // 2]
        out[..., j] = a * c - b * s
        out[..., j + n // 2] = b * c + a * s
    return out


def _mask(attention_mask, causal, b, t_q, t_k):
    allowed = torch.ones(b, 1, t_q, t_k, dtype=torch.bool)
    if causal:
        for i in range(t_q):
            allowed[:, :, i, t_k - t_q + i + 1 :] = False
    if attention_mask is not None:
        am = attention_mask.bool()
        am = am[:, None, None, :] if am.dim() == 2 else am
        allowed = allowed & am
        empty = ~allowed.any(-1, keepdim=True)
        allowed = allowed | empty
    return allowed


def naive_integral_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    num_signals: int,
    cos_sin: tuple[torch.Tensor, torch.Tensor] | None = None,
    causal: bool = True,
    attention_mask: torch.Tensor | None = None,
    signal_space: str = "logit",
) -> torch.Tensor:
    """Eq. 6 written out: for every head, split q and k into S blocks of d_h, rotate each
    block with its own columns of ``cos_sin`` (if given), average the S logit matrices
    ``Q^s K^sT / sqrt(d_h)`` (or the S softmaxes for ``signal_space="prob"``), mask, softmax,
    multiply by the full-width V. Shapes as :func:`integral_transformer.functional.integral_attention`.
    """
    q, k, v = q.double(), k.double(), v.double()
    b, h, t_q, d = q.shape
    h_kv, t_k = k.shape[1], k.shape[2]
    d_h = d // num_signals
    allowed = _mask(attention_mask, causal, b, t_q, t_k)
    out = torch.zeros(b, h, t_q, d, dtype=torch.float64)
    for head in range(h):
        kv = head // (h // h_kv)
        logits_sum = torch.zeros(b, t_q, t_k, dtype=torch.float64)
        probs_sum = torch.zeros(b, t_q, t_k, dtype=torch.float64)
        for s in range(num_signals):
            qs = q[:, head, :, s * d_h : (s + 1) * d_h]
            ks = k[:, kv, :, s * d_h : (s + 1) * d_h]
            if cos_sin is not None:
                cos = cos_sin[0].double()[..., s * d_h : (s + 1) * d_h]
                sin = cos_sin[1].double()[..., s * d_h : (s + 1) * d_h]
                qs = _rotate_block(qs[:, None], cos, sin)[:, 0]
                ks = _rotate_block(ks[:, None], cos, sin)[:, 0]
            z = torch.einsum("bid,bjd->bij", qs, ks) / math.sqrt(d_h)
            logits_sum = logits_sum + z
            z = z.masked_fill(~allowed[:, 0], float("-inf"))
            probs_sum = probs_sum + torch.softmax(z, dim=-1)
        if signal_space == "prob":
            weights = probs_sum / num_signals
        else:
            z = (logits_sum / num_signals).masked_fill(~allowed[:, 0], float("-inf"))
            weights = torch.softmax(z, dim=-1)
        out[:, head] = weights @ v[:, kv]
    return out


def naive_cog_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = True,
    attention_mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> torch.Tensor:
    """Eq. 4 written out per head: ``w_ij = sign(s_ij) exp|s_ij| / sum_allowed exp|s_il|``."""
    q, k, v = q.double(), k.double(), v.double()
    b, h, t_q, d = q.shape
    h_kv, t_k = k.shape[1], k.shape[2]
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    allowed = _mask(attention_mask, causal, b, t_q, t_k)[:, 0]
    out = torch.zeros(b, h, t_q, d, dtype=torch.float64)
    for head in range(h):
        kv = head // (h // h_kv)
        s = torch.einsum("bid,bjd->bij", q[:, head], k[:, kv]) * scale
        e = torch.where(allowed, s.abs().exp(), torch.zeros_like(s))
        w = torch.sign(s) * e / e.sum(-1, keepdim=True)
        out[:, head] = w @ v[:, kv]
    return out
