"""C5: the KV-cache saving of a mask is ρ·(1 - W/T) and the bounded cache really releases it.

Rule (fixed before the run): for ρ in {0.25, 0.5, 0.75, 0.875}, W = 1024, T = 32,768 (the
paper's setting) on the quick model's shape, the measured bytes of ``RollingHybridCache``
give a saving equal to the formula within 1e-9. Exact arithmetic; no precondition.
"""

from __future__ import annotations

import torch
from papershelf.registry import Result, RunContext

from bosch.config import TinyLMConfig
from bosch.mask import HeadMask, exact_count, kv_saving
from bosch.model import RollingHybridCache

WINDOW, CONTEXT = 1024, 32768
RATIOS = (0.25, 0.5, 0.75, 0.875)
PAPER = {0.25: 0.242, 0.5: 0.484, 0.75: 0.727, 0.875: 0.848}


def run(ctx: RunContext) -> Result:
    cfg = TinyLMConfig()
    shape = (cfg.num_layers, cfg.num_kv_heads)
    head_dim = cfg.dim // cfg.num_heads
    full = RollingHybridCache(HeadMask.zeros(*shape), WINDOW)
    full.fill_random(1, CONTEXT, head_dim)
    rows, worst = {}, 0.0
    for ratio in RATIOS:
        k = exact_count(ratio, shape[0] * shape[1])
        mask = HeadMask.from_flat([i < k for i in range(shape[0] * shape[1])], shape[1])
        cache = RollingHybridCache(mask, WINDOW)
        cache.fill_random(1, CONTEXT, head_dim)
        measured = 1 - cache.nbytes() / full.nbytes()
        formula = kv_saving(ratio, WINDOW, CONTEXT)
        worst = max(worst, abs(measured - formula))
        rows[str(ratio)] = {"measured": measured, "formula": formula, "paper": PAPER[ratio]}
        del cache
    torch.manual_seed(ctx.seed)
    return Result(
        metric="max |measured - formula| KV saving",
        ours=worst,
        baseline=0.0,
        baseline_name="formula ρ(1 - W/T)",
        holds=worst <= 1e-9,
        details={"per_ratio": rows, "window": WINDOW, "context": CONTEXT},
        config={"window": WINDOW, "context": CONTEXT, "shape": list(shape)},
        note="measured = 1 - bytes(hybrid ring cache) / bytes(full cache), batch 1, float32",
    )
