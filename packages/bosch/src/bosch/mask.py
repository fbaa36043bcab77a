"""``HeadMask``: which KV groups of which layers use sliding-window attention (z in the spec)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from papershelf.errors import UserError

__all__ = ["HeadMask", "exact_count", "kv_saving"]

FORMAT = "bosch.mask/1"


def exact_count(ratio: float, total: int) -> int:
    """round(ρ·N) with halves rounded up (Python's round would send 0.5 to even)."""
    return math.floor(ratio * total + 0.5 + 1e-9)


def kv_saving(ratio: float, window: int, seq_len: int, sink_tokens: int = 0) -> float:
    """Fraction of KV-cache entries saved at context ``seq_len`` (spec C5): ρ·(1 - min(T, W+s)/T)."""
    kept = min(seq_len, window + sink_tokens)
    return ratio * (1.0 - kept / seq_len)


class HeadMask:
    """A binary decision per (layer, KV head): True = sliding-window attention.

    Shape (num_layers, num_kv_heads); with GQA every query head of a KV group follows its
    group's decision (the spec's variables z ∈ {0,1}^N, N = layers × KV heads).
    """

    def __init__(self, rows: Sequence[Sequence[bool]]) -> None:
        bits = tuple(tuple(bool(b) for b in row) for row in rows)
        if not bits or not bits[0] or len({len(r) for r in bits}) != 1:
            raise UserError("mask: must be a non-empty rectangular (layers, kv_heads) table")
        self.bits = bits

    # construction -------------------------------------------------------------------
    @classmethod
    def zeros(cls, num_layers: int, num_kv_heads: int) -> HeadMask:
        return cls([[False] * num_kv_heads for _ in range(num_layers)])

    @classmethod
    def ones(cls, num_layers: int, num_kv_heads: int) -> HeadMask:
        return cls([[True] * num_kv_heads for _ in range(num_layers)])

    @classmethod
    def from_flat(cls, flat: Sequence[bool], num_kv_heads: int) -> HeadMask:
        flat = list(flat)
        return cls([flat[i : i + num_kv_heads] for i in range(0, len(flat), num_kv_heads)])

    @classmethod
    def from_groups(cls, groups: set[tuple[int, int]], shape: tuple[int, int]) -> HeadMask:
        return cls([[(li, g) in groups for g in range(shape[1])] for li in range(shape[0])])

    # views ------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.bits), len(self.bits[0]))

    @property
    def num_groups(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def flat(self) -> tuple[bool, ...]:
        return tuple(b for row in self.bits for b in row)

    @property
    def count(self) -> int:
        return sum(self.flat)

    @property
    def ratio(self) -> float:
        """ρ(z) = mean(z) over KV groups."""
        return self.count / self.num_groups

    def groups(self) -> set[tuple[int, int]]:
        """The SWA groups as (layer, kv_head) pairs."""
        return {(li, g) for li, row in enumerate(self.bits) for g, b in enumerate(row) if b}

    def per_layer_counts(self) -> list[int]:
        return [sum(row) for row in self.bits]

    def layer(self, idx: int) -> tuple[bool, ...]:
        return self.bits[idx]

    def tensor(self):
        """A bool tensor (num_layers, num_kv_heads)."""
        import torch

        return torch.tensor(self.bits, dtype=torch.bool)

    def with_layer(self, idx: int, row: Sequence[bool]) -> HeadMask:
        rows = [list(r) for r in self.bits]
        rows[idx] = [bool(b) for b in row]
        return HeadMask(rows)

    def turnover(self, other: HeadMask) -> float:
        """Fraction of this mask's SWA groups not in ``other`` (0 when nested inside it)."""
        mine = self.groups()
        return len(mine - other.groups()) / len(mine) if mine else 0.0

    def kv_entries(self, seq_len: int, window: int, sink_tokens: int = 0) -> int:
        """Cached (token, KV group) entries per sequence at context ``seq_len``, all layers."""
        kept = min(seq_len, window + sink_tokens)
        return self.count * kept + (self.num_groups - self.count) * seq_len

    def check_shape(self, num_layers: int, num_kv_heads: int) -> None:
        if self.shape != (num_layers, num_kv_heads):
            raise UserError(
                f"mask: shape must be (layers, kv_heads) = ({num_layers}, {num_kv_heads}) "
                f"for this model, got {self.shape}"
            )

    # io ---------------------------------------------------------------------------------
    def to_dict(self, **meta: Any) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "shape": list(self.shape),
            "ratio": self.ratio,
            "swa": [[int(b) for b in row] for row in self.bits],
            **meta,
        }

    @classmethod
    def from_dict(cls, data: Any) -> HeadMask:
        if not isinstance(data, dict) or "swa" not in data:
            raise UserError("mask: must be a JSON object with an 'swa' table (bosch.mask/1)")
        swa = data["swa"]
        if not isinstance(swa, list) or not all(
            isinstance(r, list) and all(b in (0, 1, True, False) for b in r) for r in swa
        ):
            raise UserError("mask: 'swa' must be a list of rows of 0/1")
        mask = cls(swa)
        if "shape" in data and list(data["shape"]) != list(mask.shape):
            raise UserError(f"mask: 'shape' {data['shape']} does not match the table {mask.shape}")
        return mask

    def to_json(self, path: str | Path, **meta: Any) -> Path:
        from papershelf.io import atomic_write_json

        path = Path(path)
        atomic_write_json(path, self.to_dict(**meta))
        return path

    @classmethod
    def from_json(cls, path: str | Path) -> HeadMask:
        path = Path(path)
        if not path.is_file():
            raise UserError(f"mask: {path} does not exist")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise UserError(
                f"mask: {path} is not valid JSON ({exc.msg}, line {exc.lineno})"
            ) from None
        return cls.from_dict(data)

    # dunder -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, HeadMask) and self.bits == other.bits

    def __hash__(self) -> int:
        return hash(self.bits)

    def __repr__(self) -> str:
        rows = " ".join("".join("1" if b else "0" for b in r) for r in self.bits)
        return f"HeadMask({rows})"
