"""``TinyRetrievalLM`` (small GQA decoder with per-(layer, KV group) SWA) and its bounded cache."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from torch import nn

from bosch.config import TinyLMConfig
from bosch.functional import hybrid_attention
from bosch.mask import HeadMask

__all__ = ["RollingHybridCache", "TinyRetrievalLM"]


def _rope(x: torch.Tensor, positions: torch.Tensor, theta: float) -> torch.Tensor:
    """Rotate-half RoPE. x: (batch, heads, seq, head_dim); positions: (seq,)."""
    dim = x.shape[-1]
    inv = theta ** (-torch.arange(0, dim, 2, dtype=torch.float64, device=x.device) / dim)
    ang = positions.to(torch.float64)[:, None] * inv[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], dim=-1).to(x.dtype)
    sin = torch.cat([ang.sin(), ang.sin()], dim=-1).to(x.dtype)
    half = dim // 2
    rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rot * sin


class RollingHybridCache:
    """KV cache whose SWA groups keep only the sink tokens plus the last ``window`` tokens.

    Per layer l: full groups hold K/V of shape (batch, n_full_l, seen, head_dim); SWA groups
    hold (batch, n_swa_l, min(seen, sink_tokens + window), head_dim), trimmed after every
    update, so their memory is bounded (spec "Library API": the W-token buffer is released,
    not masked). ``nbytes()`` equals ``HeadMask.kv_entries`` × batch × head_dim × 2 × itemsize.
    """

    def __init__(self, mask: HeadMask, window: int, sink_tokens: int = 0) -> None:
        self.mask, self.window, self.sink_tokens = mask, window, sink_tokens
        self.swa = mask.tensor()
        layers = mask.shape[0]
        self.full_k: list[torch.Tensor | None] = [None] * layers
        self.full_v: list[torch.Tensor | None] = [None] * layers
        self.swa_k: list[torch.Tensor | None] = [None] * layers
        self.swa_v: list[torch.Tensor | None] = [None] * layers
        self.seen = 0

    def _trim(self, x: torch.Tensor | None) -> torch.Tensor | None:
        keep = self.sink_tokens + self.window
        if x is None or x.shape[2] <= keep:
            return x
        return torch.cat([x[:, :, : self.sink_tokens], x[:, :, -self.window :]], dim=2)

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        """Append k, v (batch, kv_heads, new, head_dim); return the kept (full, swa) K/V."""
        swa = self.swa[layer].to(k.device)
        parts = []
        for store_k, store_v, sel in (
            (self.full_k, self.full_v, ~swa),
            (self.swa_k, self.swa_v, swa),
        ):
            if not bool(sel.any()):
                parts.append((None, None))
                continue
            nk, nv = k[:, sel], v[:, sel]
            if store_k[layer] is not None:
                nk = torch.cat([store_k[layer], nk], dim=2)
                nv = torch.cat([store_v[layer], nv], dim=2)
            parts.append((nk, nv))
            if store_k is self.swa_k:
                nk, nv = self._trim(nk), self._trim(nv)
            store_k[layer], store_v[layer] = nk, nv
        return parts

    def nbytes(self) -> int:
        """Bytes held by all cached K/V tensors."""
        tensors = self.full_k + self.full_v + self.swa_k + self.swa_v
        return sum(t.numel() * t.element_size() for t in tensors if t is not None)

    def fill_random(self, batch: int, seq_len: int, head_dim: int, dtype=torch.float32) -> None:
        """Fill as if ``seq_len`` tokens had been seen (random K/V), for decode benchmarks."""
        for layer in range(self.mask.shape[0]):
            kv = torch.randn(batch, self.mask.shape[1], seq_len, head_dim, dtype=dtype)
            self.update(layer, kv, kv.clone())
        self.seen = seq_len


class Attention(nn.Module):
    """GQA self-attention with RoPE; x: (batch, seq, dim) -> (batch, seq, dim)."""

    def __init__(self, config: TinyLMConfig, layer_idx: int) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        self.heads, self.kv_heads = config.num_heads, config.num_kv_heads
        self.head_dim = config.dim // config.num_heads
        self.theta = config.rope_theta
        self.q = nn.Linear(config.dim, config.dim, bias=False)
        self.k = nn.Linear(config.dim, self.kv_heads * self.head_dim, bias=False)
        self.v = nn.Linear(config.dim, self.kv_heads * self.head_dim, bias=False)
        self.o = nn.Linear(config.dim, config.dim, bias=False)
        # probes for the static rankings: attention weights, and a per-query-head gate
        self.capture = False
        self.captured: torch.Tensor | None = None
        self.head_gate: torch.Tensor | None = None

    def forward(self, x, swa, window, sink_tokens, cache=None):
        batch, seq, _ = x.shape
        offset = cache.seen if cache is not None else 0
        pos = torch.arange(offset, offset + seq, device=x.device)
        q = self.q(x).view(batch, seq, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(x).view(batch, seq, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v(x).view(batch, seq, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = _rope(q, pos, self.theta), _rope(k, pos, self.theta)
        if cache is None or offset == 0:
            out = hybrid_attention(q, k, v, swa, window, sink_tokens)
            if self.capture:  # (batch, heads, seq, seq) weights of full causal attention
                n_rep = self.heads // self.kv_heads
                kk = k.repeat_interleave(n_rep, dim=1)
                logits = q @ kk.transpose(-1, -2) / self.head_dim**0.5
                causal = torch.ones(seq, seq, dtype=torch.bool, device=x.device).tril()
                self.captured = logits.masked_fill(~causal, float("-inf")).softmax(-1).detach()
            if cache is not None:
                cache.update(self.layer_idx, k, v)
        else:
            if seq != 1:
                raise UserError("input_ids: decode one token at a time after the prefill")
            (fk, fv), (sk, sv) = cache.update(self.layer_idx, k, v)
            # the kept SWA keys are exactly the allowed ones: no mask needed
            sk, sv = cache.swa_k[self.layer_idx], cache.swa_v[self.layer_idx]
            n_rep = self.heads // self.kv_heads
            swa_q = swa.to(x.device).repeat_interleave(n_rep)
            out = torch.empty_like(q)
            for sel, kk, vv in ((~swa_q, fk, fv), (swa_q, sk, sv)):
                if kk is None:
                    continue
                idx = sel.nonzero().flatten()
                kk = kk.repeat_interleave(n_rep, dim=1)
                vv = vv.repeat_interleave(n_rep, dim=1)
                out[:, idx] = F.scaled_dot_product_attention(q[:, idx], kk, vv)
        if self.head_gate is not None:
            out = out * self.head_gate[None, :, None, None]
        return self.o(out.transpose(1, 2).reshape(batch, seq, -1))


class Block(nn.Module):
    def __init__(self, config: TinyLMConfig, layer_idx: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.dim)
        self.attn = Attention(config, layer_idx)
        self.ln2 = nn.LayerNorm(config.dim)
        self.ffn = nn.Sequential(
            nn.Linear(config.dim, config.ffn_dim), nn.GELU(), nn.Linear(config.ffn_dim, config.dim)
        )

    def forward(self, x, swa, window, sink_tokens, cache=None):
        x = x + self.attn(self.ln1(x), swa, window, sink_tokens, cache)
        return x + self.ffn(self.ln2(x))


class TinyRetrievalLM(nn.Module):
    """Pre-LN GQA decoder whose KV groups can each be full or sliding-window attention.

    ``forward(input_ids: (batch, seq)) -> logits (batch, seq, vocab)``. ``set_hybrid(mask,
    window)`` chooses the SWA groups (z of the spec); the default mask is all full.
    """

    def __init__(self, config: TinyLMConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.dim)
        self.blocks = nn.ModuleList(Block(config, i) for i in range(config.num_layers))
        self.ln = nn.LayerNorm(config.dim)
        self.head = nn.Linear(config.dim, config.vocab_size, bias=False)
        self.hybrid_mask = HeadMask.zeros(config.num_layers, config.num_kv_heads)
        self.window, self.sink_tokens = config.max_len, 0
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)

    @property
    def num_layers(self) -> int:
        return self.config.num_layers

    @property
    def num_kv_heads(self) -> int:
        return self.config.num_kv_heads

    def set_hybrid(self, mask: HeadMask, window: int, sink_tokens: int = 0) -> TinyRetrievalLM:
        """Use SWA (window W, sinks) in the KV groups where ``mask`` is True; returns self."""
        mask.check_shape(self.num_layers, self.num_kv_heads)
        self.hybrid_mask, self.window, self.sink_tokens = mask, window, sink_tokens
        return self

    def new_cache(self) -> RollingHybridCache:
        return RollingHybridCache(self.hybrid_mask, self.window, self.sink_tokens)

    def forward(
        self, input_ids: torch.Tensor, cache: RollingHybridCache | None = None
    ) -> torch.Tensor:
        x = self.embed(input_ids)
        swa = self.hybrid_mask.tensor()
        for layer, block in enumerate(self.blocks):
            x = block(x, swa[layer], self.window, self.sink_tokens, cache)
        if cache is not None:
            cache.seen += input_ids.shape[1]
        return self.head(self.ln(x))
