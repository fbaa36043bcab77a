"""The ``dyngraph`` command line: train, evaluate, generate, reproduce, bench.

Thin: each command parses its options and calls :mod:`dyngraph_survey_models.workflow`.
Nothing heavy is imported at module level, so ``dyngraph --help`` answers at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import make_app, run_app

from dyngraph_survey_models.config import NEGATIVES
from dyngraph_survey_models.registry import CT_MODELS

app = make_app(
    "dyngraph-survey-models",
    help="Dynamic-graph models from the survey's taxonomy (TGN, JODIE, TGAT, EvolveGCN, DySAT, DE-SimplE) with leak-free evaluation.",
)

MODELS = CT_MODELS


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
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="auto, csv (src,dst,t,...), jodie (user,item,timestamp,state_label,...), "
            "dyglib (ml_<name>.csv + .npy) or tgb (named source/destination/timestamp columns).",
        ),
    ] = "auto",
) -> None:
    """Train a continuous-time model on the chronological train split and save a checkpoint."""
    from dyngraph_survey_models.config import TrainConfig
    from dyngraph_survey_models.workflow import train_run

    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    val = train_run(
        data,
        out,
        model=model,
        config=config,
        protocol=protocol,
        sort=sort,
        bipartite=bipartite,
        format=format,
    )
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
    format: Annotated[
        str | None,
        typer.Option("--format", help="As for train (default: the format recorded by train)."),
    ] = None,
) -> None:
    """Evaluate a checkpoint on the val/test split (prints JSON metrics)."""
    from dyngraph_survey_models.workflow import evaluate_run

    m = evaluate_run(
        checkpoint,
        data,
        negatives=negatives,
        split=split,
        k=k,
        inductive=inductive,
        sort=sort,
        format=format,
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
    from dyngraph_survey_models.workflow import generate_data

    typer.echo(generate_data(kind, out, events=events, seed=seed))


def main() -> None:
    run_app(app)
