"""C5: per-token decoding time is flat for ReGLA and grows with length for softmax + KV cache.

Rule (fixed before the run; the paper shows curves only): 6-layer models (d = 128, 4 heads,
vocab 256), prompt of 5 tokens, greedy decoding up to the longest length. Per-token time at
length L = median step time over the window (L/2, L]. Holds if ReGLA's max/min over the
windows is < 1.5 (flat) and softmax's time at the longest window over the shortest is > 1.3
(grows). No precondition (timing only; run on one thread, the machine may be shared).
"""

from __future__ import annotations

import statistics
import time

import torch
from papershelf.registry import Result, RunContext

from regla.config import LMConfig, ReGLAConfig
from regla.model import ReGLALM

QUICK_L = (64, 128, 256, 512, 1024)
FULL_L = (64, 128, 256, 512, 1024, 2048, 4096, 8192)


@torch.no_grad()
def step_times(layer_types: str, n_tokens: int, seed: int) -> list[float]:
    """Wall time of each decoding step after a 5-token prompt."""
    torch.manual_seed(seed)
    cfg = LMConfig(
        vocab_size=256,
        hidden_size=128,
        num_layers=6,
        num_heads=4,
        layer_types=layer_types,
        attention=ReGLAConfig(hidden_size=128, num_heads=4),
    )
    model = ReGLALM(cfg).eval()
    logits, states = model(torch.randint(0, 256, (1, 5)), use_cache=True)
    times = []
    for _ in range(n_tokens):
        nxt = logits[:, -1:].argmax(-1)
        t0 = time.perf_counter()
        logits, states = model(nxt, states=states, use_cache=True)
        times.append(time.perf_counter() - t0)
    return times


def per_length(times: list[float], lengths) -> list[float]:
    return [statistics.median(times[L // 2 : L]) for L in lengths]


def run(ctx: RunContext) -> Result:
    lengths = QUICK_L if ctx.quick else FULL_L
    regla = per_length(step_times("all", lengths[-1], ctx.seed), lengths)
    soft = per_length(step_times("softmax", lengths[-1], ctx.seed), lengths)
    regla_ratio = max(regla) / min(regla)
    soft_growth = soft[-1] / soft[0]
    holds = regla_ratio < 1.5 and soft_growth > 1.3
    return Result(
        metric=f"per-token time at {lengths[-1]} / at {lengths[0]} tokens",
        ours=regla[-1] / regla[0],
        baseline=soft_growth,
        baseline_name="softmax attention with KV cache",
        holds=bool(holds),
        details={
            "lengths": list(lengths),
            "regla_ms": [t * 1e3 for t in regla],
            "softmax_ms": [t * 1e3 for t in soft],
            "regla_max_over_min": regla_ratio,
            "regla_over_softmax_at_longest": regla[-1] / soft[-1],
        },
        config={"layers": 6, "hidden": 128, "heads": 4, "prompt": 5, "lengths": list(lengths)},
        note="ReGLA keeps an H*dk*dv state per layer; softmax's KV cache grows with every token.",
    )
