"""Baselines: layer-level masks (RAND, BME, INTR) and static head rankings (nested by construction).

A static ranking gives each (layer, KV group) an importance (higher = more global); the mask
at ratio ρ converts the round(ρ·N) least important groups, so masks at growing ratios are
nested. Definitions marked "ours" in the spec (locality for DCAM, BME, INTR) are this
package's; APL, PROXY and QADA are refused until checked against the paper.
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F
from papershelf.errors import UserError

from bosch.mask import HeadMask, exact_count

__all__ = ["LAYER_KINDS", "RANK_METHODS", "layer_mask", "rank_heads", "static_mask"]

LAYER_KINDS = ("rand", "bme", "intr")
RANK_METHODS = ("locality", "razor", "fisher", "ablation", "random")
UNVERIFIED = ("apl", "proxy", "qada", "duo", "dcam")


def _spread(n_layers: int, k: int) -> list[int]:
    """k indices spread evenly from the first to the last layer (k=3 of 5: 0, 2, 4)."""
    if k <= 0:
        return []
    if k == 1:
        return [n_layers - 1]
    return sorted({round(i * (n_layers - 1) / (k - 1)) for i in range(k)})


def layer_mask(
    kind: str, ratio: float, num_layers: int, num_kv_heads: int, seed: int = 0
) -> HeadMask:
    """Whole layers to SWA: round(ρ·L) of them (the nearest feasible ratio; check ``.ratio``).

    rand: random layers (seeded); bme: full attention kept in layers spread from the first
    to the last (begin-middle-end); intr: full layers interleaved, every k-th layer counted
    from the top. Both definitions are ours (spec "Variants").
    """
    if kind not in LAYER_KINDS:
        raise UserError(f"kind: must be one of {', '.join(LAYER_KINDS)}; got {kind!r}")
    n_swa = exact_count(ratio, num_layers)
    n_full = num_layers - n_swa
    if kind == "rand":
        full = set(random.Random(seed).sample(range(num_layers), n_full))
    elif kind == "bme":
        full = set(_spread(num_layers, n_full))
    else:
        full = (
            {num_layers - 1 - round(i * num_layers / n_full) for i in range(n_full)}
            if n_full
            else set()
        )
    return HeadMask([[li not in full] * num_kv_heads for li in range(num_layers)])


def static_mask(importance: torch.Tensor, ratio: float) -> HeadMask:
    """Convert the round(ρ·N) least important groups; ties broken by position. (L, G) -> mask."""
    n_layers, groups = importance.shape
    k = exact_count(ratio, n_layers * groups)
    flat = importance.flatten().tolist()
    order = sorted(range(len(flat)), key=lambda i: (flat[i], i))
    chosen = set(order[:k])
    return HeadMask.from_flat([i in chosen for i in range(len(flat))], groups)


def _attn_modules(model):
    return [b.attn for b in model.blocks]


def _group_mean(per_head: torch.Tensor, groups: int) -> torch.Tensor:
    """(layers, heads) -> (layers, groups) mean over each group's query heads."""
    n_layers, heads = per_head.shape
    return per_head.view(n_layers, groups, heads // groups).mean(-1)


@torch.no_grad()
def _locality(model, calib, window: int) -> torch.Tensor:
    mods = _attn_modules(model)
    for m in mods:
        m.capture = True
    try:
        model(calib.input_ids[:, :-1])
        rows = []
        for m in mods:
            w = m.captured  # (B, H, T, T)
            seq = w.shape[-1]
            i = torch.arange(seq)[:, None]
            j = torch.arange(seq)[None, :]
            far = (i - j >= window).to(w.dtype)
            rows.append((w * far).sum(-1).mean(dim=(0, 2)))
    finally:
        for m in mods:
            m.capture, m.captured = False, None
    return torch.stack(rows)


@torch.no_grad()
def _razor(model, calib, seed: int) -> torch.Tensor:
    """Echo + induction attention on a random sequence repeated twice (RazorAttention's probe)."""
    mods = _attn_modules(model)
    n, seq = calib.input_ids.shape
    half = seq // 2
    vocab = int(calib.input_ids.max()) + 1
    g = torch.Generator().manual_seed(seed)
    first = torch.randint(0, vocab, (min(n, 32), half), generator=g)
    ids = torch.cat([first, first], dim=1)
    for m in mods:
        m.capture = True
    try:
        model(ids)
        rows = []
        pos = torch.arange(half, 2 * half)
        for m in mods:
            w = m.captured
            echo = w[:, :, pos, pos - half]
            induction = w[:, :, pos[:-1], pos[:-1] - half + 1]
            rows.append(echo.mean(dim=(0, 2)) + induction.mean(dim=(0, 2)))
    finally:
        for m in mods:
            m.capture, m.captured = False, None
    return torch.stack(rows)


def _fisher(model, calib) -> torch.Tensor:
    """E[(∂ loss / ∂ gate_h)²] of a unit gate on each query head's attention output."""
    mods = _attn_modules(model)
    heads = mods[0].heads
    gates = [torch.ones(heads, requires_grad=True) for _ in mods]
    for m, gate in zip(mods, gates, strict=True):
        m.head_gate = gate
    total = torch.zeros(len(mods), heads)
    try:
        start = calib.answer_start
        for i in range(calib.input_ids.shape[0]):
            ids = calib.input_ids[i : i + 1]
            logits = model(ids[:, :-1])
            loss = F.cross_entropy(logits[0, start - 1 :], ids[0, start:])
            grads = torch.autograd.grad(loss, gates)
            total += torch.stack([g.detach() ** 2 for g in grads])
    finally:
        for m in mods:
            m.head_gate = None
    return total / calib.input_ids.shape[0]


def rank_heads(
    method: str,
    model,
    calib,
    window: int,
    seed: int = 0,
    score_fn=None,
) -> torch.Tensor:
    """Importance (layers, kv_heads) of each KV group, higher = keep full attention.

    Methods: locality (mean attention mass beyond the window; our stand-in for DCAM), razor
    (echo + induction attention on repeated random tokens), fisher (Fisher information of a
    head gate on the calibration loss), ablation (S_full - S with only that group SWA; needs
    ``score_fn``), random. ``model`` is a ``TinyRetrievalLM`` (attention probes) except for
    ablation/random; ``calib`` a ``RetrievalBatch``.
    """
    method = method.lower()
    if method in UNVERIFIED:
        raise UserError(f"method: {method!r} not implemented: definition unverified")
    if method not in RANK_METHODS:
        raise UserError(f"method: must be one of {', '.join(RANK_METHODS)}; got {method!r}")
    n_layers, groups = model.num_layers, model.num_kv_heads
    if method == "random":
        g = torch.Generator().manual_seed(seed)
        return torch.rand(n_layers, groups, generator=g, dtype=torch.float64)
    if method == "ablation":
        if score_fn is None:
            raise UserError("score_fn: the ablation ranking needs a score function")
        full = score_fn(HeadMask.zeros(n_layers, groups))
        out = torch.zeros(n_layers, groups, dtype=torch.float64)
        for li in range(n_layers):
            for g in range(groups):
                out[li, g] = full - score_fn(HeadMask.from_groups({(li, g)}, (n_layers, groups)))
        return out
    model.set_hybrid(HeadMask.zeros(n_layers, groups), window)
    if method == "locality":
        per_head = _locality(model, calib, window)
    elif method == "razor":
        per_head = _razor(model, calib, seed)
    else:
        per_head = _fisher(model, calib)
    return _group_mean(per_head.to(torch.float64), groups)
