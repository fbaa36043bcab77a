"""Claim ``rank-collapse`` (Table 5): Integral attention reduces rank collapse in the upper
layers: the share of samples whose last-layer representation rank exceeds vanilla's is larger
for INTG than for Diff and Cog (125M: INTG 69 %, Diff 59 %, Cog 58 % at the last layer).

Rule (fixed before the runs): rank = number of singular values of each sample's (T x d)
layer output above 1e-3 * the largest; precondition vanilla recall accuracy >= 0.5; holds if
INTG's last-layer "% above vanilla" is > 50 and >= both Diff's and Cog's.
"""

from __future__ import annotations

from papershelf.registry import Result, RunContext


def run(ctx: RunContext) -> Result:
    import torch

    from integral_transformer.analysis import layer_ranks, rank_exceeds
    from integral_transformer.config import ZooConfig
    from integral_transformer.verdicts import learned, reason
    from integral_transformer.zoo import eval_batch, get_zoo

    zc = ZooConfig.quick() if ctx.quick else ZooConfig.full()
    zoo = get_zoo(zc, ctx.seed, ctx.device)
    ok, vanilla_acc = learned(zoo)
    ids = eval_batch(zc, ctx.seed)["input_ids"]
    ranks = {
        name: torch.cat([layer_ranks(m.model, ids) for m in zoo[name]], dim=1)
        for name in ("vanilla", "intg_top", "diff_top", "cog_top")
    }
    table = {
        n: rank_exceeds(ranks[n], ranks["vanilla"]) for n in ("intg_top", "diff_top", "cog_top")
    }
    mean_rank = {n: r.double().mean(dim=1).tolist() for n, r in ranks.items()}
    intg_last = table["intg_top"][0]
    holds = None
    if ok:
        holds = intg_last > 50.0 and intg_last >= max(table["diff_top"][0], table["cog_top"][0])
    return Result(
        metric="% of samples with last-layer rank above vanilla's (INTG top-50%)",
        ours=intg_last,
        baseline=max(table["diff_top"][0], table["cog_top"][0]),
        baseline_name="best of Diff-top / Cog-top",
        holds=holds,
        details={
            "percent_above_vanilla_last_2nd_3rd": table,
            "mean_rank_per_layer": mean_rank,
            "vanilla_accuracy": vanilla_acc,
            "precondition_met": ok,
        },
        config={"zoo": zc.to_dict(), "seed": ctx.seed, "rtol": 1e-3, "samples": ids.shape[0]},
        reason=reason(ok, vanilla_acc, holds),
        note="Table 5's statistic on the tiny zoo (rank of each sample's T x d layer output).",
    )
