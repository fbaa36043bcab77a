"""Synthetic tasks (generated in code, seeded) and the byte-level text task.

- MQAR-lite (multi-query associative recall, Zoology): keys 1..vocab/2-1, values vocab/2..;
  ``num_pairs`` key-value pairs, then query pairs ``k v`` drawn from those keys; the loss and
  the recall accuracy count only the value after each query key.
- Decay memory regression (claim C1): x_t ~ N(0, I_4), y_t^c = sum_{s<=t} lambda_c^{t-s} x_s^c.
- Text: bytes of a local file, random windows.
"""

from __future__ import annotations

from pathlib import Path

import torch
from papershelf.errors import UserError

__all__ = ["DECAY_LAMBDAS", "decay_batch", "mqar_batch", "text_batches"]

DECAY_LAMBDAS = (0.5, 0.8, 0.9, 0.95)


def _gen(seed: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def mqar_batch(
    batch_size: int, seq_len: int, vocab: int = 64, num_pairs: int = 8, seed: int = 0, step: int = 0
) -> dict[str, torch.Tensor]:
    """One MQAR-lite batch: ``input_ids (B, T)``, ``labels (B, T)`` (-100 except after query keys)."""
    half = vocab // 2
    if num_pairs > half - 1:
        raise UserError(f"num_pairs: must be <= {half - 1} for vocab {vocab}, got {num_pairs}")
    g = _gen(seed, step)
    B, T, P = batch_size, seq_len, num_pairs
    keys = torch.stack([torch.randperm(half - 1, generator=g)[:P] + 1 for _ in range(B)])
    vals = torch.randint(half, vocab, (B, P), generator=g)
    nq = (T + 1 - 2 * P) // 2
    pick = torch.randint(0, P, (B, nq), generator=g)
    seq = torch.zeros(B, 2 * P + 2 * nq + 1, dtype=torch.long)
    seq[:, 0 : 2 * P : 2], seq[:, 1 : 2 * P : 2] = keys, vals
    seq[:, 2 * P : 2 * P + 2 * nq : 2] = keys.gather(1, pick)
    seq[:, 2 * P + 1 : 2 * P + 2 * nq : 2] = vals.gather(1, pick)
    inputs, targets = seq[:, :T], seq[:, 1 : T + 1].clone()
    is_query = torch.zeros(T, dtype=torch.bool)
    is_query[2 * P : 2 * P + 2 * nq : 2] = True
    targets[:, ~is_query] = -100
    return {"input_ids": inputs, "labels": targets}


def decay_batch(
    batch_size: int, seq_len: int, seed: int = 0, step: int = 0, dtype=torch.float32
) -> dict[str, torch.Tensor]:
    """``x (B, T, 4)`` and ``y (B, T, 4)`` with y_t^c = sum_{s<=t} lambda_c^{t-s} x_s^c."""
    g = _gen(seed, step)
    x = torch.randn(batch_size, seq_len, len(DECAY_LAMBDAS), generator=g, dtype=torch.float64)
    lam = torch.tensor(DECAY_LAMBDAS, dtype=torch.float64)
    y = torch.zeros_like(x)
    acc = torch.zeros_like(x[:, 0])
    for t in range(seq_len):
        acc = lam * acc + x[:, t]
        y[:, t] = acc
    return {"x": x.to(dtype), "y": y.to(dtype)}


def text_batches(path: str | Path, batch_size: int, seq_len: int, seed: int = 0):
    """A callable ``step -> {"input_ids", "labels"}`` over random byte windows of a text file (vocab 256)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data: {path} does not exist or is not a file")
    data = torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8).long()
    if len(data) < seq_len + 2:
        raise UserError(
            f"data: {path} must hold at least seq_len + 2 = {seq_len + 2} bytes, got {len(data)}"
        )

    def batch(step: int) -> dict[str, torch.Tensor]:
        starts = torch.randint(
            0, len(data) - seq_len - 1, (batch_size,), generator=_gen(seed, step)
        )
        win = torch.stack([data[s : s + seq_len + 1] for s in starts.tolist()])
        return {"input_ids": win[:, :-1], "labels": win[:, 1:]}

    return batch
