"""Claim ``integral-vs-baselines`` (Table 1): Integral attention in the top half beats vanilla,
Cog (top half) and Diff (top half).

Rule (fixed before the runs): on the noisy-recall task, precondition vanilla recall accuracy
>= 0.5; holds if INTG-top beats every baseline (``verdicts.compare``), fails if any baseline
beats it, inconclusive if any pair is close.
"""

from __future__ import annotations

from papershelf.registry import Result, RunContext

BASELINES = ("vanilla", "diff_top", "cog_top")


def run(ctx: RunContext) -> Result:
    from integral_transformer.config import ZooConfig
    from integral_transformer.verdicts import compare, learned, mean_accuracy, reason, zoo_table
    from integral_transformer.zoo import get_zoo

    zc = ZooConfig.quick() if ctx.quick else ZooConfig.full()
    zoo = get_zoo(zc, ctx.seed, ctx.device)
    ok, vanilla_acc = learned(zoo)
    comps = {b: compare(zoo["intg_top"], zoo[b]) for b in BASELINES}
    verdicts = [c["verdict"] for c in comps.values()]
    if not ok:
        holds = None
    elif "loses" in verdicts:
        holds = False
    elif all(v == "beats" for v in verdicts):
        holds = True
    else:
        holds = None
    return Result(
        metric="held-out recall accuracy (INTG top-50%)",
        ours=mean_accuracy(zoo["intg_top"]),
        baseline=vanilla_acc,
        baseline_name="vanilla attention",
        holds=holds,
        details={"models": zoo_table(zoo), "comparisons": comps, "precondition_met": ok},
        config={"zoo": zc.to_dict(), "seed": ctx.seed},
        reason=reason(
            ok, vanilla_acc, holds, [b for b, c in comps.items() if c["verdict"] == "close"]
        ),
        note=(
            "INTG-top vs vanilla/Diff-top/Cog-top on noisy recall; paired by seed, margin 2 points; "
            "inconclusive when vanilla recalls < 50 % or a pair is within the band."
        ),
    )
