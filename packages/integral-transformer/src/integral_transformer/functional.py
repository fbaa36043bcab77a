"""Pure tensor ops: rotary tables, Integral attention (fast path), Cog weights, masks.

Shapes: ``q`` is ``(B, H, T_q, D)``; ``k``, ``v`` are ``(B, H_kv, T_k, D)`` with ``H % H_kv == 0``
(GQA: query head ``h`` uses KV head ``h // (H / H_kv)``); outputs are ``(B, H, T_q, D)``.
Masks: ``attention_mask`` is a boolean key-padding mask ``(B, T_k)`` or a boolean mask
broadcastable to ``(B, H, T_q, T_k)``; ``True`` means "may attend". Causal masks are aligned
to the bottom right (query ``i`` of ``T_q`` sits at key position ``T_k - T_q + i``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from integral_transformer.config import check_signals

__all__ = [
    "apply_rope",
    "apply_signal_rope",
    "build_mask",
    "cog_attention",
    "cog_weights",
    "diff_lambda_init",
    "integral_attention",
    "integral_weights",
    "rope_cos_sin",
    "rotate_half",
    "signal_rope",
    "vanilla_attention",
]


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """``(x1, x2) -> (-x2, x1)`` on the last dim (the "half" RoPE layout of Llama)."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def _positions(positions: torch.Tensor) -> torch.Tensor:
    return positions if positions.dim() == 2 else positions.unsqueeze(0)


def rope_cos_sin(
    positions: torch.Tensor, dim: int, theta: float = 10000.0, dtype: torch.dtype | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Head-level RoPE tables, Llama's half layout: ``cos, sin`` of shape ``(B, T, dim)`` with
    frequencies ``theta_i = b^{-2i/dim}``, ``i < dim/2``, repeated for both halves (angles in
    float32 as transformers computes them, then cast to ``dtype``).

    ``positions``: ``(B, T)`` or ``(T,)`` integer positions.
    """
    pos = _positions(positions)
    # float32 angles, exactly as transformers' Llama rotary embedding computes them
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float, device=pos.device) / dim))
    freqs = pos[..., None].float() * inv
    emb = torch.cat((freqs, freqs), dim=-1)
    dtype = dtype or torch.get_default_dtype()
    return emb.cos().to(dtype), emb.sin().to(dtype)


def signal_rope(
    positions: torch.Tensor,
    head_dim: int,
    num_signals: int,
    theta: float = 10000.0,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-signal RoPE tables (spec, equivalence 2): ``cos, sin`` of shape ``(B, T, head_dim)``,
    the d_h ladder ``theta_i = b^{-2i/d_h}`` (d_h = head_dim / S) in each of the S blocks.

    ``positions``: ``(B, T)`` or ``(T,)``. Not the head_dim ladder: each signal is a full
    rotary sub-space of its own.
    """
    check_signals(head_dim, num_signals, "signal")
    cos, sin = rope_cos_sin(positions, head_dim // num_signals, theta, dtype)
    return cos.repeat(1, 1, num_signals), sin.repeat(1, 1, num_signals)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Head-level RoPE: ``x (B, H, T, D)``, ``cos, sin (B, T, D)`` -> ``(B, H, T, D)``."""
    cos, sin = cos.unsqueeze(1).to(x.dtype), sin.unsqueeze(1).to(x.dtype)
    return x * cos + rotate_half(x) * sin


def apply_signal_rope(
    x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, num_signals: int
) -> torch.Tensor:
    """RoPE on each of the S contiguous d_h-blocks of the head (half layout inside a block).

    ``x (B, H, T, D)``, ``cos, sin (B, T, D)`` from :func:`signal_rope` -> ``(B, H, T, D)``.
    """
    b, h, t, d = x.shape
    blocks = x.reshape(b, h, t, num_signals, d // num_signals)
    rotated = rotate_half(blocks).reshape(b, h, t, d)
    cos, sin = cos.unsqueeze(1).to(x.dtype), sin.unsqueeze(1).to(x.dtype)
    return x * cos + rotated * sin


def build_mask(
    attention_mask: torch.Tensor | None, causal: bool, t_q: int, t_k: int, device
) -> torch.Tensor | None:
    """A boolean mask broadcastable to ``(B, H, T_q, T_k)`` (``True`` = attend), or ``None``.

    Rows with no allowed key (e.g. a left-padded query) are opened to every key so the
    softmax stays finite; their outputs are meaningless and should be ignored.
    """
    mask = None
    if causal:
        i = torch.arange(t_q, device=device)[:, None] + (t_k - t_q)
        mask = (torch.arange(t_k, device=device)[None, :] <= i)[None, None]
    if attention_mask is not None:
        am = attention_mask.to(device=device, dtype=torch.bool)
        if am.dim() == 2:
            am = am[:, None, None, :]
        mask = am if mask is None else mask & am
    if mask is not None and attention_mask is not None:
        mask = mask | ~mask.any(dim=-1, keepdim=True)
    return mask


def _sdpa(q, k, v, mask, causal, scale):
    gqa = q.shape[1] != k.shape[1]
    if mask is None and causal and q.shape[2] == k.shape[2]:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale, enable_gqa=gqa)
    if mask is None and causal:
        mask = build_mask(None, True, q.shape[2], k.shape[2], q.device)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale, enable_gqa=gqa)


def _repeat_kv(x: torch.Tensor, heads: int) -> torch.Tensor:
    return x.repeat_interleave(heads // x.shape[1], dim=1) if x.shape[1] != heads else x


def vanilla_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    cos_sin: tuple[torch.Tensor, torch.Tensor] | None = None,
    causal: bool = True,
    attention_mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> torch.Tensor:
    """softmax(Q K^T / sqrt(D)) V (eqs. 2-3), one SDPA call; head-level RoPE from ``cos_sin``
    (``(B, T, D)``, queries and keys at the same positions). Returns ``(B, H, T_q, D)``."""
    if cos_sin is not None:
        q, k = apply_rope(q, *cos_sin), apply_rope(k, *cos_sin)
    return _masked_sdpa(q, k, v, causal, attention_mask, scale)


def _masked_sdpa(q, k, v, causal, attention_mask, scale):
    if attention_mask is None:
        return _sdpa(q, k, v, None, causal, scale)
    mask = build_mask(attention_mask, causal, q.shape[2], k.shape[2], q.device)
    return _sdpa(q, k, v, mask, False, scale)


def _signal_inputs(q, k, num_signals, cos_sin):
    check_signals(q.shape[-1], num_signals, "signal" if cos_sin is not None else "head")
    if cos_sin is not None:
        if k.shape[2] != q.shape[2]:
            raise ValueError(
                f"cos_sin: queries and keys must share positions, got T_q={q.shape[2]}, T_k={k.shape[2]}"
            )
        q = apply_signal_rope(q, *cos_sin, num_signals)
        k = apply_signal_rope(k, *cos_sin, num_signals)
    return q, k


def integral_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    num_signals: int,
    cos_sin: tuple[torch.Tensor, torch.Tensor] | None = None,
    causal: bool = True,
    attention_mask: torch.Tensor | None = None,
    signal_space: str = "logit",
) -> torch.Tensor:
    """Integral attention (eqs. 6-8): ``softmax((1/S) sum_s Q^s K^sT / sqrt(d_h)) V``.

    Q^s, K^s are the S contiguous d_h-blocks (d_h = D / S) of each head's query and key; V
    keeps the full head width. With ``cos_sin`` (from :func:`signal_rope`, shape
    ``(B, T, D)``, the same positions for queries and keys) each block is rotated with the
    d_h ladder first. Fast path (spec, equivalence 2): the averaged logits equal
    ``q' . k' / (S sqrt(d_h))`` on the concatenated rotated blocks, so this is ONE
    scaled-dot-product-attention call with ``scale = 1 / (S sqrt(d_h))``.
    ``signal_space="prob"`` averages the S softmaxes instead (Table 8 ablation; S passes).

    Args: q ``(B, H, T_q, D)``, k / v ``(B, H_kv, T_k, D)``. Returns ``(B, H, T_q, D)``.
    """
    if signal_space not in ("logit", "prob"):
        raise ValueError(f"signal_space: must be 'logit' or 'prob', got {signal_space!r}")
    q, k = _signal_inputs(q, k, num_signals, cos_sin)
    d_h = q.shape[-1] // num_signals
    if signal_space == "logit":
        return _masked_sdpa(q, k, v, causal, attention_mask, 1.0 / (num_signals * math.sqrt(d_h)))
    weights = _prob_weights(q, k, num_signals, causal, attention_mask)
    return weights @ _repeat_kv(v, q.shape[1])


def _prob_weights(q, k, num_signals, causal, attention_mask):
    k = _repeat_kv(k, q.shape[1])
    d_h = q.shape[-1] // num_signals
    mask = build_mask(attention_mask, causal, q.shape[2], k.shape[2], q.device)
    total = 0.0
    for qs, ks in zip(q.split(d_h, -1), k.split(d_h, -1), strict=True):
        logits = qs @ ks.transpose(-1, -2) / math.sqrt(d_h)
        if mask is not None:
            logits = logits.masked_fill(~mask, float("-inf"))
        total = total + logits.softmax(-1)
    return total / num_signals


def integral_weights(
    q: torch.Tensor,
    k: torch.Tensor,
    num_signals: int,
    cos_sin: tuple[torch.Tensor, torch.Tensor] | None = None,
    causal: bool = True,
    attention_mask: torch.Tensor | None = None,
    signal_space: str = "logit",
) -> torch.Tensor:
    """The explicit attention map ``phi_intg`` of eq. 6, ``(B, H, T_q, T_k)`` (for diagnostics)."""
    q, k = _signal_inputs(q, k, num_signals, cos_sin)
    if signal_space == "prob":
        return _prob_weights(q, k, num_signals, causal, attention_mask)
    d_h = q.shape[-1] // num_signals
    logits = q @ _repeat_kv(k, q.shape[1]).transpose(-1, -2) / (num_signals * math.sqrt(d_h))
    mask = build_mask(attention_mask, causal, q.shape[2], k.shape[2], q.device)
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    return logits.softmax(-1)


def cog_weights(
    q: torch.Tensor,
    k: torch.Tensor,
    causal: bool = True,
    attention_mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> torch.Tensor:
    """Cog attention weights (eq. 4): ``sign(s) * softmax(|s|)``, ``s = Q K^T scale``;
    masked positions get ``|s| = -inf`` (weight exactly 0). ``(B, H, T_q, T_k)``."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ _repeat_kv(k, q.shape[1]).transpose(-1, -2) * scale
    mask = build_mask(attention_mask, causal, q.shape[2], k.shape[2], q.device)
    mag = s.abs()
    if mask is not None:
        mag = mag.masked_fill(~mask, float("-inf"))
    return torch.sign(s) * mag.softmax(-1)


def cog_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = True,
    attention_mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> torch.Tensor:
    """Cog attention output ``cog_weights(q, k) @ V``: ``(B, H, T_q, D)`` (eager: no fused kernel)."""
    return cog_weights(q, k, causal, attention_mask, scale) @ _repeat_kv(v, q.shape[1])


def diff_lambda_init(depth: int) -> float:
    """Diff Transformer's ``lambda_init = 0.8 - 0.6 exp(-0.3 depth)`` (0-based depth)."""
    return 0.8 - 0.6 * math.exp(-0.3 * depth)
