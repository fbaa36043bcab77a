"""The claims' experiments (run by ``dyngraph reproduce``); every verdict is computed here."""

from __future__ import annotations

import time

from papershelf.registry import Result, RunContext

__all__ = ["memory_beats_static", "negative_sampling_matters", "snapshots_lose_order"]


def _fit_eval(name, stream, splits, cfg, seed, negatives=("random",), k=20):
    import torch

    from .protocol import evaluate
    from .registry import build_model
    from .training import TrainConfig, train_model

    torch.manual_seed(seed)
    model = build_model(name, stream.num_nodes, stream.msg_dim)
    start = time.perf_counter()
    hist = train_model(
        model,
        splits,
        TrainConfig(
            epochs=cfg["epochs"],
            batch_size=cfg["batch_size"],
            lr=cfg["lr"],
            seed=seed,
            progress=False,
        ),
    )
    out = {
        "train_s": round(time.perf_counter() - start, 2),
        "final_loss": hist.losses[-1] if hist.losses else None,
    }
    for neg in negatives:
        m = evaluate(model, splits, "test", negatives=neg, k=k)
        out[neg] = {"ap": m.ap, "auc": m.auc, "mrr": m.mrr, "hits@10": m.hits[10]}
    return out


def memory_beats_static(ctx: RunContext) -> Result:
    """Claim 1: TGN/JODIE vs StaticEmbedding on the drifting stream and its stationary control."""
    import torch

    from .splits import chronological_split
    from .synthetic import drifting_bipartite, stationary_bipartite

    torch.set_num_threads(1)  # tiny ops: extra threads only add sync cost on a shared CPU
    cfg = {"num_events": 10_000, "epochs": 10, "batch_size": 100, "lr": 1e-2, "k": 20}
    if not ctx.quick:
        cfg.update(num_events=50_000, epochs=20)
    table = {}
    for kind, gen in (("temporal", drifting_bipartite), ("stationary", stationary_bipartite)):
        stream = gen(num_events=cfg["num_events"], seed=ctx.seed)
        splits = chronological_split(stream)
        table[kind] = {
            m: _fit_eval(m, stream, splits, cfg, ctx.seed, k=cfg["k"])
            for m in ("tgn", "jodie", "static")
        }
    gap = {
        kind: {
            met: table[kind]["tgn"]["random"][met] - table[kind]["static"]["random"][met]
            for met in ("ap", "mrr")
        }
        for kind in table
    }
    holds = (
        gap["temporal"]["ap"] >= 0.05
        and gap["temporal"]["ap"] > gap["stationary"]["ap"]
        and gap["temporal"]["mrr"] > gap["stationary"]["mrr"]
    )
    return Result(
        metric="test AP, recency-driven stream (random negatives)",
        ours=table["temporal"]["tgn"]["random"]["ap"],
        baseline=table["temporal"]["static"]["random"]["ap"],
        baseline_name="StaticEmbedding (same decoder, no time)",
        holds=bool(holds),
        details={"gap_tgn_minus_static": gap, "models": table},
        config=cfg,
        note="holds if TGN-static >= 0.05 AP on the temporal stream and the AP and MRR gaps are larger there than on the stationary control",
    )


def negative_sampling_matters(ctx: RunContext) -> Result:
    """Claim 2: EdgeBank and TGN scored with random vs historical vs inductive negatives."""
    import torch

    from .splits import chronological_split
    from .synthetic import drifting_bipartite

    torch.set_num_threads(1)  # tiny ops: extra threads only add sync cost on a shared CPU
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
        m: _fit_eval(m, stream, splits, cfg, ctx.seed, negatives=negs, k=cfg["k"])
        for m in ("edgebank", "tgn")
    }
    eb_drop = table["edgebank"]["random"]["ap"] - table["edgebank"]["historical"]["ap"]
    every_lower = all(table[m]["historical"]["ap"] < table[m]["random"]["ap"] for m in table)
    return Result(
        metric="EdgeBank test AP drop, random -> historical negatives",
        ours=eb_drop,
        baseline=0.2,
        baseline_name="threshold (drop >= 0.2)",
        holds=bool(eb_drop >= 0.2 and every_lower),
        details={"models": table, "every_model_lower_with_historical": every_lower},
        config=cfg,
        note="holds if EdgeBank loses >= 0.2 AP and every model scores lower with historical than with random negatives",
    )


def snapshots_lose_order(ctx: RunContext) -> Result:
    """Claim 3: TGN vs snapshot models on the same test events and negatives."""
    import torch

    from .models import TGN
    from .models.dysat import DySAT
    from .models.snapshot import EvolveGCNH, EvolveGCNO, GConvGRU
    from .negatives import NegativeSampler
    from .protocol import EVAL_SEEDS, evaluate
    from .snapshot_protocol import SnapshotLinkModel, score_events_from_snapshots, train_snapshots
    from .snapshots import snapshot_bounds, to_snapshots
    from .splits import chronological_split
    from .synthetic import drifting_bipartite
    from .training import TrainConfig, train_model

    torch.set_num_threads(1)  # tiny ops: extra threads only add sync cost on a shared CPU
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
    }
    if not ctx.quick:
        cfg.update(num_events=50_000, tgn_epochs=20, snapshot_epochs=200)
    stream = drifting_bipartite(num_events=cfg["num_events"], seed=ctx.seed)
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
    torch.manual_seed(ctx.seed)
    tgn = TGN(stream.num_nodes, stream.msg_dim)
    train_model(
        tgn,
        splits,
        TrainConfig(
            epochs=cfg["tgn_epochs"],
            batch_size=cfg["batch_size"],
            lr=cfg["lr"],
            seed=ctx.seed,
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
        torch.manual_seed(ctx.seed)
        model = SnapshotLinkModel(make(), h)
        train_snapshots(
            model,
            snaps[:first_val],
            cand,
            epochs=cfg["snapshot_epochs"],
            lr=cfg["lr"],
            seed=ctx.seed,
        )
        sampler = NegativeSampler("random", stream, seed=EVAL_SEEDS[("test", False)])
        rows[name] = score_events_from_snapshots(
            model, snaps, test_windows, part, sampler, cfg["k"], cfg["batch_size"]
        )
    best = max((r for r in rows if r != "TGN"), key=lambda r: rows[r]["ap"])
    return Result(
        metric="test AP on the recency-driven stream, same events and negatives",
        ours=rows["TGN"]["ap"],
        baseline=rows[best]["ap"],
        baseline_name=f"best snapshot model ({best})",
        holds=bool(rows["TGN"]["ap"] > rows[best]["ap"]),
        details={"models": rows, "test_events": len(part)},
        config=cfg,
        note="holds if TGN's AP exceeds the best snapshot model's; snapshot models score window j from windows < j",
    )
