"""Slow, explicit references (loops, explicit softmax) for the ops of ``bosch.functional``."""

from __future__ import annotations

import math

import torch

__all__ = ["naive_hybrid_attention", "naive_sliding_window_mask"]


def naive_sliding_window_mask(
    q_len: int,
    kv_len: int,
    window: int,
    sink_tokens: int = 0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Entry by entry: query row r at position i = kv_len - q_len + r attends key j iff
    j <= i and (i - j < window or j < sink_tokens)."""
    out = torch.zeros(q_len, kv_len, dtype=torch.bool, device=device)
    for r in range(q_len):
        i = kv_len - q_len + r
        for j in range(kv_len):
            out[r, j] = j <= i and (i - j < window or j < sink_tokens)
    return out


def naive_hybrid_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    swa_heads: torch.Tensor,
    window: int,
    sink_tokens: int = 0,
    attention_mask: torch.Tensor | None = None,
    scaling: float | None = None,
) -> torch.Tensor:
    """Per batch row, head and query: softmax over the allowed keys only, written out.

    Shapes as ``hybrid_attention``; ``attention_mask`` here must be None or bool.
    """
    batch, heads, q_len, dim = q.shape
    kv_heads, kv_len = k.shape[1], k.shape[2]
    n_rep = heads // kv_heads
    scale = scaling if scaling is not None else 1.0 / math.sqrt(dim)
    out = torch.zeros(batch, heads, q_len, v.shape[-1], dtype=q.dtype)
    for b in range(batch):
        for h in range(heads):
            g = h // n_rep
            swa = bool(swa_heads[g])
            for r in range(q_len):
                i = kv_len - q_len + r
                keys = []
                for j in range(kv_len):
                    ok = j <= i
                    if swa:
                        ok = ok and (i - j < window or j < sink_tokens)
                    if attention_mask is not None:
                        m = attention_mask[
                            b if attention_mask.shape[0] > 1 else 0,
                            h if attention_mask.shape[1] > 1 else 0,
                            r,
                            j,
                        ]
                        ok = ok and bool(m)
                    if ok:
                        keys.append(j)
                logits = torch.stack([(q[b, h, r] * k[b, g, j]).sum() * scale for j in keys])
                weights = torch.exp(logits - logits.max())
                weights = weights / weights.sum()
                out[b, h, r] = sum(w * v[b, g, j] for w, j in zip(weights, keys, strict=True))
    return out
