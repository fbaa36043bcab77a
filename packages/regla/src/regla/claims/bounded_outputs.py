"""C2: the safe-exp feature map with the per-head norm keeps outputs bounded as length grows.

Rule (fixed before the run): a random ReGLA layer without gates (plain linear attention, so
only the feature map and the norm differ), inputs x ~ N(0, 1). growth = max_t |y_t| at the
longest T over max_t |y_t| at the shortest. Holds if unnormalised ReLU and ELU+1 both grow
(growth > 2) while safe-exp + RMSNorm stays bounded (growth < 1.5, all finite). No
precondition: inference only.
"""

from __future__ import annotations

import torch
from papershelf.registry import Result, RunContext

from regla.config import ReGLAConfig
from regla.layer import ReGLAAttention

QUICK_T = (256, 512, 1024, 2048)
FULL_T = (256, 512, 1024, 2048, 4096, 8192)
COMBOS = [(f, n) for f in ("relu", "elu1", "safe_exp") for n in ("none", "rmsnorm")]


@torch.no_grad()
def max_abs(feature_map: str, norm: str, lengths, seed: int) -> list[float]:
    torch.manual_seed(seed)
    layer = ReGLAAttention(
        ReGLAConfig(hidden_size=64, num_heads=2, feature_map=feature_map, norm=norm, gate="none")
    ).eval()
    x = torch.randn(1, max(lengths), 64, generator=torch.Generator().manual_seed(seed))
    y, _ = layer(x)
    return [float(y[:, :t].abs().max()) for t in lengths]


def run(ctx: RunContext) -> Result:
    lengths = QUICK_T if ctx.quick else FULL_T
    table = {f"{f}+{n}": max_abs(f, n, lengths, ctx.seed) for f, n in COMBOS}
    growth = {k: v[-1] / v[0] for k, v in table.items()}
    finite = all(all(torch.isfinite(torch.tensor(v))) for v in table.values())
    holds = (
        growth["relu+none"] > 2
        and growth["elu1+none"] > 2
        and growth["safe_exp+rmsnorm"] < 1.5
        and finite
    )
    return Result(
        metric=f"growth of max |y_t| from T={lengths[0]} to T={lengths[-1]}",
        ours=growth["safe_exp+rmsnorm"],
        baseline=growth["relu+none"],
        baseline_name="ReLU features, no norm (linear attention without denominator)",
        holds=bool(holds),
        details={"max_abs_by_length": table, "growth": growth, "lengths": list(lengths)},
        config={"lengths": list(lengths), "hidden": 64, "heads": 2, "gate": "none"},
        note="Unnormalised positive features accumulate with T; safe-exp + per-head RMSNorm stays O(1).",
    )
