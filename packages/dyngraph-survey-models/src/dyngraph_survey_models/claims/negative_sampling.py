"""Claim negative-sampling: EdgeBank and TGN scored with random vs historical vs inductive
negatives (runs on 1 torch thread: ``Claim(threads=1)``)."""

from __future__ import annotations

from papershelf.registry import Result, RunContext

__all__ = ["run", "verdict"]


def verdict(table: dict) -> tuple[float, bool, bool]:
    """The rule fixed before the run, on ``{model: {negatives: {"ap": ...}}}``: returns
    ``(EdgeBank's AP drop random -> historical, every model lower with historical, holds)``;
    holds iff the drop is >= 0.2 and every model's AP(historical) < AP(random)."""
    eb_drop = table["edgebank"]["random"]["ap"] - table["edgebank"]["historical"]["ap"]
    every_lower = all(table[m]["historical"]["ap"] < table[m]["random"]["ap"] for m in table)
    return eb_drop, every_lower, bool(eb_drop >= 0.2 and every_lower)


def run(ctx: RunContext) -> Result:
    """EdgeBank's AP drop from random to historical negatives, and TGN's under all three."""
    from dyngraph_survey_models.comparison import fit_and_score
    from dyngraph_survey_models.splits import chronological_split
    from dyngraph_survey_models.synthetic import drifting_bipartite

    cfg = {
        "num_users": 100,
        "num_items": 1000,
        "num_events": 5_000,
        "repeat_prob": 0.5,
        "epochs": 3,
        "batch_size": 200,
        "lr": 1e-2,
        "k": 20,
    }
    if not ctx.quick:
        cfg.update(num_events=20_000, epochs=10)
    stream = drifting_bipartite(
        num_users=cfg["num_users"],
        num_items=cfg["num_items"],
        num_events=cfg["num_events"],
        repeat_prob=cfg["repeat_prob"],
        seed=ctx.seed,
    )
    splits = chronological_split(stream)
    negs = ("random", "historical", "inductive")
    table = {
        m: fit_and_score(m, stream, splits, cfg, ctx.seed, negatives=negs, k=cfg["k"])
        for m in ("edgebank", "tgn")
    }
    eb_drop, every_lower, holds = verdict(table)
    return Result(
        metric="EdgeBank test AP drop, random -> historical negatives",
        ours=eb_drop,
        baseline=0.2,
        baseline_name="threshold (drop >= 0.2)",
        holds=holds,
        details={"models": table, "every_model_lower_with_historical": every_lower},
        config=cfg,
        note="holds if EdgeBank loses >= 0.2 AP and every model scores lower with historical than with random negatives",
    )
