"""The rotary embedding module (exact periodicity for resonant pairs) and ``apply_rotary``."""

from __future__ import annotations

import torch
from torch import nn

from resonance_rope.config import RopeConfig
from resonance_rope.freqs import compute_rope, rotary_angles


def _expand(freqs: torch.Tensor, layout: str) -> torch.Tensor:
    """(..., P) -> (..., 2P): ``half`` repeats the block (HF ``rotate_half``), ``interleaved`` each entry."""
    return (
        torch.cat((freqs, freqs), dim=-1)
        if layout == "half"
        else freqs.repeat_interleave(2, dim=-1)
    )


def _rotate(x: torch.Tensor, layout: str) -> torch.Tensor:
    if layout == "half":
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat((-x2, x1), dim=-1)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def apply_rotary(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, layout: str = "half"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate queries and keys (RoFormer eq. 34).

    Args:
        q: (B, H, T, D); k: (B, H_kv, T, D).
        cos, sin: (B, T, d_rot) or (T, d_rot) in the same ``layout``; only the first d_rot dims
            of q and k are rotated (partial rotary), the rest pass through unchanged.
        layout: ``"half"`` or ``"interleaved"``.

    Returns:
        (q, k) rotated, same shapes and dtypes.
    """
    if cos.dim() == 3:
        cos, sin = cos[:, None], sin[:, None]
    d_rot = cos.shape[-1]

    def rot(x: torch.Tensor) -> torch.Tensor:
        if d_rot == x.shape[-1]:
            return x * cos + _rotate(x, layout) * sin
        head, tail = x[..., :d_rot], x[..., d_rot:]
        return torch.cat((head * cos + _rotate(head, layout) * sin, tail), dim=-1)

    return rot(q), rot(k)


class RotaryEmbedding(nn.Module):
    """cos/sin tables of a RoPE variant, with exact periodicity for resonant pairs.

    A drop-in for Hugging Face's ``LlamaRotaryEmbedding``: ``forward(x, position_ids)`` returns
    (cos, sin), each (B, T, d_rot) in ``x``'s dtype and device, already multiplied by the
    attention factor. The table is built in float64 once (cached, rebuilt when a longer
    position is asked for); the lookup is an index, so per-step cost does not depend on the
    variant. Dynamic variants rebuild for the current length (``max(position) + 1``).

    Args:
        cfg: the variant.
        max_positions: initial table length (default: ``cfg.max_position_embeddings`` or 2048).
    """

    def __init__(self, cfg: RopeConfig, max_positions: int | None = None):
        super().__init__()
        self.cfg = cfg
        self.rope_type = cfg.type_name
        freqs = compute_rope(cfg)
        self.attention_scaling = freqs.attention_factor
        self.register_buffer("inv_freq", freqs.inv_freq.to(torch.float32), persistent=False)
        self.register_buffer("int_wavelength", freqs.int_wavelength, persistent=False)
        self._freqs64 = freqs.inv_freq
        self._freq_len: int | None = None
        self.register_buffer("cos_table", torch.empty(0), persistent=False)
        self.register_buffer("sin_table", torch.empty(0), persistent=False)
        self._build(max_positions or cfg.max_position_embeddings or 2048)

    @property
    def cached_len(self) -> int:
        return self.cos_table.shape[0]

    def _set_freqs(self, seq_len: int) -> None:
        freqs = compute_rope(self.cfg, seq_len)
        self._freqs64, self.attention_scaling, self._freq_len = (
            freqs.inv_freq,
            freqs.attention_factor,
            seq_len,
        )
        self.inv_freq = freqs.inv_freq.to(self.inv_freq.device, torch.float32)
        self.int_wavelength = freqs.int_wavelength.to(self.int_wavelength.device)

    def _build(self, length: int) -> None:
        pos = torch.arange(length, dtype=torch.int64)
        lam = (
            self.int_wavelength.cpu()
            if self.cfg.exact_periodicity
            else torch.zeros_like(self.int_wavelength.cpu())
        )
        angles = rotary_angles(pos, self._freqs64, lam)
        emb = _expand(angles, self.cfg.layout)
        device = self.inv_freq.device
        self.cos_table = (emb.cos() * self.attention_scaling).to(device, torch.float32)
        self.sin_table = (emb.sin() * self.attention_scaling).to(device, torch.float32)

    def table(self, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(cos, sin), each (length, d_rot) float32, for positions 0 .. length - 1."""
        self._ensure(length)
        return self.cos_table[:length], self.sin_table[:length]

    def _ensure(self, needed: int) -> None:
        if self.cfg.is_dynamic:
            floor_len = (
                self.cfg.max_position_embeddings
                if self.cfg.rope_type == "dynamic"
                else self.cfg.original_max_position_embeddings
            )
            key = max(needed, floor_len)
            if key != self._freq_len:
                self._set_freqs(key)
                self._build(needed)
                return
        if needed > self.cached_len:
            self._build(max(needed, 2 * self.cached_len))

    @torch.no_grad()
    def forward(
        self, x: torch.Tensor, position_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """cos, sin for ``position_ids`` (B, T) int; ``x`` only gives dtype and device."""
        if position_ids.is_floating_point() or position_ids.is_complex():
            raise ValueError(
                f"position_ids: must be an integer tensor, got dtype {position_ids.dtype}"
            )
        if position_ids.numel() and int(position_ids.min()) < 0:
            raise ValueError(f"position_ids: must be >= 0, got min {int(position_ids.min())}")
        needed = int(position_ids.max()) + 1 if position_ids.numel() else 1
        self._ensure(needed)
        if self.cos_table.device != x.device:
            self.cos_table, self.sin_table = (
                self.cos_table.to(x.device),
                self.sin_table.to(x.device),
            )
        cos = self.cos_table[position_ids]
        sin = self.sin_table[position_ids]
        return cos.to(x.dtype), sin.to(x.dtype)
