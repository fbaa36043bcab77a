"""Claim snapshots-lose-order: TGN vs snapshot models (GConvGRU, EvolveGCN-O/-H, DySAT) on
the same test events and negatives (runs on 1 torch thread: ``Claim(threads=1)``).

Rule, fixed before the run: on ``SEEDS`` paired seeds (stream, models and negatives share
the seed), the 95 % t-interval of TGN's AP minus the best snapshot model's (best by mean
AP) is above 0: holds; below 0: does not hold; containing 0: inconclusive (the gap is inside
the seed-to-seed spread)."""

from __future__ import annotations

from papershelf.registry import Result, RunContext

__all__ = ["run"]


SEEDS = 3


def run(ctx: RunContext) -> Result:
    """TGN vs the best snapshot model over paired seeds; snapshot models score window j
    from windows < j."""
    from papershelf.stats import paired_difference

    cfg = {
        "num_events": 10_000,
        "num_snapshots": 20,
        "test_windows": 3,
        "val_windows": 2,
        "tgn_epochs": 10,
        "snapshot_epochs": 50,
        "batch_size": 100,
        "lr": 1e-2,
        "k": 20,
        "hidden": 32,
        "seeds": SEEDS,
    }
    if not ctx.quick:
        cfg.update(num_events=50_000, tgn_epochs=20, snapshot_epochs=200)
    seeds = [ctx.seed + i for i in range(SEEDS)]
    per_seed = [_one_seed(seed, cfg) for seed in seeds]
    snapshot_models = [m for m in per_seed[0] if m != "TGN"]
    mean_ap = {m: sum(r[m]["ap"] for r in per_seed) / len(seeds) for m in per_seed[0]}
    best = max(snapshot_models, key=mean_ap.get)
    diff = paired_difference([r["TGN"]["ap"] for r in per_seed], [r[best]["ap"] for r in per_seed])
    return Result(
        metric=f"test AP on the recency-driven stream, same events and negatives (mean of {SEEDS} seeds)",
        ours=mean_ap["TGN"],
        baseline=mean_ap[best],
        baseline_name=f"best snapshot model ({best})",
        holds=diff.holds,
        reason="" if diff.holds is not None else f"TGN - {best}: {diff.describe()} contains 0",
        details={
            "per_seed": dict(zip(map(str, seeds), per_seed, strict=True)),
            "mean_ap": mean_ap,
            "paired_difference": diff.__dict__,
        },
        config=cfg,
        note=f"TGN - {best}: {diff.describe()}",
    )


def _one_seed(seed: int, cfg: dict) -> dict[str, dict[str, float]]:
    """Test AP/AUC/MRR of TGN and of each snapshot model on one seed's stream."""
    import torch

    from dyngraph_survey_models.config import TrainConfig
    from dyngraph_survey_models.models import TGN
    from dyngraph_survey_models.models.dysat import DySAT
    from dyngraph_survey_models.models.snapshot import EvolveGCNH, EvolveGCNO, GConvGRU
    from dyngraph_survey_models.negatives import NegativeSampler
    from dyngraph_survey_models.protocol import EVAL_SEEDS, evaluate, train_model
    from dyngraph_survey_models.snapshot_protocol import (
        SnapshotLinkModel,
        score_events_from_snapshots,
        train_snapshots,
    )
    from dyngraph_survey_models.snapshots import snapshot_bounds, to_snapshots
    from dyngraph_survey_models.splits import chronological_split
    from dyngraph_survey_models.synthetic import drifting_bipartite

    stream = drifting_bipartite(num_events=cfg["num_events"], seed=seed)
    ns = cfg["num_snapshots"]
    snaps = to_snapshots(stream, num_snapshots=ns)
    window = snapshot_bounds(stream, num_snapshots=ns)
    first_test = ns - cfg["test_windows"]
    first_val = first_test - cfg["val_windows"]
    cut = lambda j: float(stream.t[window < j].max())  # noqa: E731  # last event time before window j
    splits = chronological_split(
        stream, protocol="transductive-only", cut_times=(cut(first_val), cut(first_test))
    )
    part = splits.test
    test_windows = window[splits.test_mask]
    rows = {}
    torch.manual_seed(seed)
    tgn = TGN(stream.num_nodes, stream.msg_dim)
    train_model(
        tgn,
        splits,
        TrainConfig(
            epochs=cfg["tgn_epochs"],
            batch_size=cfg["batch_size"],
            lr=cfg["lr"],
            seed=seed,
            progress=False,
        ),
    )
    m = evaluate(tgn, splits, "test", k=cfg["k"], batch_size=cfg["batch_size"])
    rows["TGN"] = {"ap": m.ap, "auc": m.auc, "mrr": m.mrr}
    n, h = stream.num_nodes, cfg["hidden"]
    encoders = {
        "GConvGRU": lambda: GConvGRU(n, h, h),
        "EvolveGCN-O": lambda: EvolveGCNO(n, h),
        "EvolveGCN-H": lambda: EvolveGCNH(n, h),
        "DySAT": lambda: DySAT(n, h, h),
    }
    cand = torch.unique(splits.train.dst)
    for name, make in encoders.items():
        torch.manual_seed(seed)
        model = SnapshotLinkModel(make(), h)
        train_snapshots(
            model,
            snaps[:first_val],
            cand,
            epochs=cfg["snapshot_epochs"],
            lr=cfg["lr"],
            seed=seed,
        )
        sampler = NegativeSampler("random", stream, seed=EVAL_SEEDS[("test", False)])
        rows[name] = score_events_from_snapshots(
            model, snaps, test_windows, part, sampler, cfg["k"], cfg["batch_size"]
        )
    return rows
