"""Pure tensor ops: the banded causal mask and per-KV-group hybrid (full / sliding-window) attention."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["hybrid_attention", "sliding_window_mask"]


def sliding_window_mask(
    q_len: int,
    kv_len: int,
    window: int,
    sink_tokens: int = 0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Boolean (q_len, kv_len) mask, True where query i may attend key j.

    Queries are the last ``q_len`` of the ``kv_len`` positions (bottom-right aligned, as when
    decoding with a cache): query row r sits at absolute position i = kv_len - q_len + r.
    Allowed iff 0 <= i - j < window (W keys including the query itself; transformers'
    ``kv_idx > q_idx - sliding_window`` on the causal mask), or j < sink_tokens and j <= i.
    ``window >= kv_len`` gives the plain causal mask.
    """
    i = torch.arange(kv_len - q_len, kv_len, device=device)[:, None]
    j = torch.arange(kv_len, device=device)[None, :]
    causal = j <= i
    return causal & ((j > i - window) | (j < sink_tokens))


def _combine(base: torch.Tensor | None, band: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Intersect an attention mask (bool or additive float, or None = causal) with ``band``."""
    if base is None:
        return band
    if base.dtype == torch.bool:
        return base & band
    return torch.where(band, base, torch.finfo(dtype).min).to(dtype)


def hybrid_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    swa_heads: torch.Tensor,
    window: int,
    sink_tokens: int = 0,
    attention_mask: torch.Tensor | None = None,
    scaling: float | None = None,
) -> torch.Tensor:
    """Scaled dot-product attention where each KV group is either full or sliding-window.

    Args:
        q: (batch, heads, q_len, head_dim) queries.
        k, v: (batch, kv_heads, kv_len, head_dim); ``heads`` is a multiple of ``kv_heads`` and
            query head h uses KV head h // (heads / kv_heads) (GQA).
        swa_heads: bool (kv_heads,), True = that KV group (all its query heads) uses SWA.
        window: W of the SWA groups (keys seen including the query).
        sink_tokens: leading keys every SWA group also sees.
        attention_mask: None (causal, queries bottom-right aligned), or a bool mask (True =
            attend) / additive float mask broadcastable to (batch, heads, q_len, kv_len).
        scaling: softmax scale, 1/sqrt(head_dim) by default.

    Returns:
        (batch, heads, q_len, head_dim). Full groups run one SDPA call with the given mask, SWA
        groups a second one with the mask intersected with the band (the spec's SWA semantics;
        which heads are SWA is z in the objective, spec "Method: Variables").
    """
    batch, heads, q_len, _ = q.shape
    kv_heads, kv_len = k.shape[1], k.shape[2]
    n_rep = heads // kv_heads
    swa_q = swa_heads.to(device=q.device, dtype=torch.bool).repeat_interleave(n_rep)
    if n_rep > 1:
        k = k.repeat_interleave(n_rep, dim=1)
        v = v.repeat_interleave(n_rep, dim=1)
    causal = sliding_window_mask(q_len, kv_len, kv_len, 0, q.device)
    base = causal if attention_mask is None else attention_mask
    if not bool(swa_q.any()):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=base, scale=scaling)
    band = sliding_window_mask(q_len, kv_len, window, sink_tokens, q.device)
    swa_mask = _combine(base, band & causal, q.dtype)
    if bool(swa_q.all()):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=swa_mask, scale=scaling)
    out = torch.empty(batch, heads, q_len, v.shape[-1], dtype=q.dtype, device=q.device)
    full_idx = (~swa_q).nonzero().flatten()
    swa_idx = swa_q.nonzero().flatten()
    for idx, mask in ((full_idx, base), (swa_idx, swa_mask)):
        if mask.dim() == 4 and mask.shape[1] == heads:
            mask = mask[:, idx]
        out[:, idx] = F.scaled_dot_product_attention(
            q[:, idx], k[:, idx], v[:, idx], attn_mask=mask, scale=scaling
        )
    return out
