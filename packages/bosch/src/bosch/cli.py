"""The ``bosch`` command: tiny, search, apply, evaluate (+ reproduce, bench). Parsing only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import make_app, run_app

app = make_app(
    "bosch",
    help="BOSCH: black-box selection of sliding-window attention heads for hybrid LLMs.",
)

ModelDir = Annotated[
    Path, typer.Argument(help="A bosch tiny model folder or a transformers folder.")
]
Ratio = Annotated[float, typer.Option("--ratio", help="Fraction of KV groups to SWA, in [0, 1].")]
Window = Annotated[int, typer.Option("--window", help="SWA window W (keys incl. the query).")]
Probe = Annotated[
    Path, typer.Option("--probe-data", help="JSONL of {input_ids, answer_start} (calibration).")
]


def _print(obj) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


@app.command()
def tiny(
    out: Annotated[Path, typer.Option("--out", help="Folder for the model and probe.jsonl.")],
    seed: Annotated[int, typer.Option("--seed")] = 0,
    steps: Annotated[int | None, typer.Option("--steps", help="Training steps (400).")] = None,
) -> None:
    """Train the quick tiny retrieval model offline; writes probe.jsonl beside it."""
    from bosch.workflow import train_tiny_model

    _print(train_tiny_model(out, seed=seed, steps=steps))


@app.command()
def search(
    model_dir: ModelDir,
    ratio: Ratio = 0.5,
    window: Window = 1024,
    probe_data: Probe = Path("probe.jsonl"),
    out: Annotated[Path, typer.Option("--out", help="Output folder (resumable).")] = Path(
        "runs/bosch"
    ),
    stages: Annotated[str, typer.Option("--stages", help="full, single, multi or layer.")] = "full",
    solver: Annotated[
        str, typer.Option("--solver", help="swap_ls, random or exhaustive.")
    ] = "swap_ls",
    budget_probe: Annotated[int, typer.Option("--budget-probe")] = 30,
    budget_factor: Annotated[int, typer.Option("--budget-factor")] = 10,
    max_vars: Annotated[int, typer.Option("--max-vars")] = 48,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Search the SWA groups for one ratio; writes mask.json, history.jsonl, summary.json."""
    from bosch.config import BoschConfig
    from bosch.workflow import run_search

    config = BoschConfig(
        ratio=ratio,
        window=window,
        stages=stages,
        solver=solver,
        budget_probe=budget_probe,
        budget_factor=budget_factor,
        max_vars=max_vars,
        seed=seed,
    )
    _print(run_search(model_dir, probe_data, config, out))


@app.command()
def apply(
    model_dir: ModelDir,
    mask: Annotated[Path, typer.Option("--mask", help="mask.json from `bosch search`.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the patched model.")],
    window: Annotated[int | None, typer.Option("--window", help="Override the mask's W.")] = None,
) -> None:
    """Save the model with the selection applied (hybrid attention when loaded)."""
    from bosch.workflow import apply_mask

    typer.echo(str(apply_mask(model_dir, mask, out, window)))


@app.command()
def evaluate(
    model_dir: ModelDir,
    mask: Annotated[Path | None, typer.Option("--mask", help="mask.json (none = full).")] = None,
    probe_data: Annotated[Path | None, typer.Option("--probe-data")] = None,
    window: Annotated[int | None, typer.Option("--window")] = None,
    context: Annotated[int | None, typer.Option("--context", help="T for the KV saving.")] = None,
    samples: Annotated[int, typer.Option("--samples")] = 256,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Retrieval accuracy (synthetic needle task or --probe-data), Ŝ and the KV saving."""
    from bosch.workflow import evaluate_mask

    _print(evaluate_mask(model_dir, mask, probe_data, window, context, samples, seed))


def main() -> None:
    run_app(app)
