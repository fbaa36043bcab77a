"""The ``dyngraph`` command line: train, evaluate, generate, reproduce, bench.

Nothing heavy is imported at module level, so ``dyngraph --help`` answers at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import make_app, run_app
from papershelf.errors import UserError

from .registry import CT_MODELS

app = make_app(
    "dyngraph-survey-models",
    help="Dynamic-graph models from the survey's taxonomy (TGN, JODIE, TGAT, EvolveGCN, DySAT, DE-SimplE) with leak-free evaluation.",
)

MODELS = CT_MODELS
NEGATIVES = ("random", "historical", "inductive")


def _quiet() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise UserError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


@app.command()
def train(
    data: Annotated[
        Path,
        typer.Option(
            "--data", help="Event CSV (src,dst,t[,f...]), JODIE CSV or DyGLib ml_<name>.csv."
        ),
    ],
    model: Annotated[str, typer.Option("--model", help=f"One of {', '.join(MODELS)}.")] = "tgn",
    out: Annotated[
        Path,
        typer.Option("--out", help="Checkpoint folder (model.safetensors + model_config.json)."),
    ] = Path("runs/dyngraph"),
    epochs: Annotated[int, typer.Option(help="Passes over the training events.")] = 5,
    batch_size: Annotated[
        int, typer.Option(help="Events per batch (cut at timestamp boundaries).")
    ] = 200,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    protocol: Annotated[
        str, typer.Option(help="tgn (hold out new nodes) or transductive-only.")
    ] = "tgn",
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    sort: Annotated[
        bool,
        typer.Option("--sort", help="Stable-sort events by time instead of refusing disorder."),
    ] = False,
    bipartite: Annotated[
        bool,
        typer.Option("--bipartite", help="Sources and destinations are disjoint (users -> items)."),
    ] = False,
) -> None:
    """Train a continuous-time model on the chronological train split and save a checkpoint."""
    _quiet()
    import torch
    from papershelf.checkpoint import save_weights

    from .data import read_events
    from .protocol import evaluate
    from .registry import build_model
    from .splits import chronological_split
    from .training import TrainConfig, train_model

    _choice("model", model, MODELS)
    _choice("protocol", protocol, ("tgn", "transductive-only"))
    stream = read_events(data, sort=sort, bipartite=bipartite or None)
    splits = chronological_split(stream, protocol=protocol)
    torch.manual_seed(seed)
    net = build_model(model, stream.num_nodes, stream.msg_dim)
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    hist = train_model(net, splits, cfg)
    val = evaluate(net, splits, "val", batch_size=batch_size)
    config = {
        "model": model,
        "num_nodes": stream.num_nodes,
        "msg_dim": stream.msg_dim,
        "bipartite": stream.bipartite,
        "train": {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "seed": seed,
            "protocol": protocol,
        },
        "data": str(data),
        "losses": hist.losses,
        "train_events_per_s": hist.events_per_s,
        "val": val.as_dict(),
        "split": {k: v for k, v in splits.summary().items() if k != "new_nodes"},
        "new_nodes": splits.new_nodes.tolist(),
    }
    out.mkdir(parents=True, exist_ok=True)
    save_weights(out, net.state_dict(), config)
    typer.echo(f"val AP {val.ap:.4f}  AUC {val.auc:.4f}  MRR {val.mrr:.4f}; checkpoint: {out}")


@app.command("evaluate")
def evaluate_cmd(
    checkpoint: Annotated[
        Path, typer.Option("--checkpoint", help="Folder written by `dyngraph train`.")
    ],
    data: Annotated[
        Path, typer.Option("--data", help="The same event file the model was trained on.")
    ],
    negatives: Annotated[str, typer.Option(help=f"One of {', '.join(NEGATIVES)}.")] = "random",
    split: Annotated[str, typer.Option(help="val or test.")] = "test",
    k: Annotated[int, typer.Option(help="Negatives per positive for MRR / Hits@k.")] = 20,
    inductive: Annotated[
        bool, typer.Option("--inductive", help="Score only events touching held-out new nodes.")
    ] = False,
    sort: Annotated[bool, typer.Option("--sort", help="Stable-sort events by time.")] = False,
) -> None:
    """Evaluate a checkpoint on the val/test split (prints JSON metrics)."""
    _quiet()
    from papershelf.checkpoint import load_config, load_weights

    from .data import read_events
    from .protocol import evaluate
    from .registry import build_model
    from .splits import chronological_split

    _choice("negatives", negatives, NEGATIVES)
    _choice("split", split, ("val", "test"))
    config = load_config(checkpoint)
    if not config or "model" not in config:
        raise UserError(f"checkpoint: {checkpoint} has no model_config.json from `dyngraph train`")
    stream = read_events(
        data, sort=sort, num_nodes=config["num_nodes"], bipartite=config.get("bipartite")
    )
    if stream.msg_dim != config["msg_dim"]:
        raise UserError(
            f"data: {data} has {stream.msg_dim} edge features; the checkpoint expects {config['msg_dim']}"
        )
    splits = chronological_split(stream, protocol=config["train"]["protocol"])
    net = build_model(config["model"], config["num_nodes"], config["msg_dim"])
    state, _ = load_weights(checkpoint, expected_keys=net.state_dict().keys())
    net.load_state_dict(state)
    m = evaluate(
        net,
        splits,
        split,
        negatives=negatives,
        k=k,
        batch_size=config["train"]["batch_size"],
        inductive=inductive,
    )
    typer.echo(json.dumps(m.as_dict(), indent=2))


@app.command()
def generate(
    kind: Annotated[str, typer.Argument(help="drifting | stationary | periodic-tkg")],
    out: Annotated[
        Path,
        typer.Option("--out", help="Output file (CSV for event streams, TSV for periodic-tkg)."),
    ],
    events: Annotated[int, typer.Option(help="Number of events (event streams).")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
) -> None:
    """Write a seeded synthetic dataset with known temporal structure."""
    from papershelf.io import atomic_write_text

    from .data import write_csv
    from .synthetic import drifting_bipartite, periodic_tkg, stationary_bipartite

    _choice("kind", kind, ("drifting", "stationary", "periodic-tkg"))
    if kind == "periodic-tkg":
        tkg = periodic_tkg(seed=seed)
        lines = ["\t".join(map(str, row)) for row in tkg.quads.tolist()]
        atomic_write_text(out, "\n".join(lines) + "\n")
        typer.echo(f"wrote {len(lines)} quadruples (head, relation, tail, timestamp) to {out}")
        return
    gen = drifting_bipartite if kind == "drifting" else stationary_bipartite
    stream = gen(num_events=events, seed=seed)
    write_csv(stream, out)
    typer.echo(f"wrote {len(stream)} events over {stream.num_nodes} nodes to {out}")


def main() -> None:
    run_app(app)
