"""Claim ``layer-placement`` (Table 2): Integral attention belongs in the upper layers; top half
>= all layers > bottom half (and bottom half is below vanilla in the paper).

Rule (fixed before the runs, the spec's full rule with the shared band): precondition vanilla
recall accuracy >= 0.5; holds if all-layers does not beat top-half and all-layers beats
bottom-half; fails if all-layers beats top-half or bottom-half beats all-layers;
inconclusive otherwise (close).
"""

from __future__ import annotations

from papershelf.registry import Result, RunContext


def run(ctx: RunContext) -> Result:
    from integral_transformer.config import ZooConfig
    from integral_transformer.verdicts import compare, learned, mean_accuracy, reason, zoo_table
    from integral_transformer.zoo import get_zoo

    zc = ZooConfig.quick() if ctx.quick else ZooConfig.full()
    zoo = get_zoo(zc, ctx.seed, ctx.device)
    ok, vanilla_acc = learned(zoo)
    top_vs_all = compare(zoo["intg_top"], zoo["intg_all"])
    all_vs_bottom = compare(zoo["intg_all"], zoo["intg_bottom"])
    bottom_vs_vanilla = compare(zoo["intg_bottom"], zoo["vanilla"])
    if not ok:
        holds = None
    elif top_vs_all["verdict"] == "loses" or all_vs_bottom["verdict"] == "loses":
        holds = False
    elif all_vs_bottom["verdict"] == "beats":
        holds = True
    else:
        holds = None
    return Result(
        metric="recall accuracy: INTG top-50% (all / bottom-50% in details)",
        ours=mean_accuracy(zoo["intg_top"]),
        baseline=mean_accuracy(zoo["intg_bottom"]),
        baseline_name="INTG bottom-50%",
        holds=holds,
        details={
            "models": zoo_table(zoo),
            "top_vs_all": top_vs_all,
            "all_vs_bottom": all_vs_bottom,
            "bottom_vs_vanilla": bottom_vs_vanilla,
            "vanilla_accuracy": vanilla_acc,
            "precondition_met": ok,
        },
        config={"zoo": zc.to_dict(), "seed": ctx.seed},
        reason=reason(ok, vanilla_acc, holds, ["top vs all", "all vs bottom"]),
        note="Top >= all > bottom in recall accuracy, paired by seed with a 2-point band.",
    )
