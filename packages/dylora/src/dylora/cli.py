"""The ``dylora`` command: train, eval --ranks, export, reproduce, bench.

Torch and transformers are imported inside the commands, so ``dylora --help`` is instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import OverwriteOpt, ResumeOpt, make_app, run_app
from papershelf.quiet import quiet_third_party

app = make_app("dylora", help="DyLoRA: one training run for every LoRA rank (arXiv 2210.07558).")


def _targets(text: str) -> list[str] | str:
    """The command line's target syntax, shared by every adapter CLI (papershelf.adapters)."""
    from papershelf.adapters.targets import parse_cli_targets

    return parse_cli_targets(text)


@app.command()
def train(
    out: Annotated[
        Path, typer.Option("--out", help="Run folder (adapter/, run_config.json, metrics.json).")
    ] = Path("runs/dylora"),
    model: Annotated[
        str,
        typer.Option(
            "--model", help="Hub name, local folder, 'offline' (bundled MiniLM) or 'tiny-encoder'."
        ),
    ] = "offline",
    train_file: Annotated[
        str | None,
        typer.Option(
            "--train", help="Training data (.jsonl or .csv); default: the synthetic task."
        ),
    ] = None,
    eval_file: Annotated[
        str | None, typer.Option("--eval", help="Evaluation data (.jsonl or .csv).")
    ] = None,
    text_field: Annotated[str, typer.Option("--text-field")] = "text",
    label_field: Annotated[str, typer.Option("--label-field")] = "label",
    r_max: Annotated[int, typer.Option("--r-max")] = 8,
    r_min: Annotated[int, typer.Option("--r-min")] = 1,
    alpha: Annotated[float, typer.Option("--alpha")] = 16.0,
    target_modules: Annotated[
        str,
        typer.Option("--target-modules", help="Comma-separated suffixes, a regex or 'all-linear'."),
    ] = "query,value",
    update_mode: Annotated[str, typer.Option("--update-mode", help="frozen | all")] = "frozen",
    scaling: Annotated[
        str, typer.Option("--scaling", help="alpha_over_b | alpha_over_rmax")
    ] = "alpha_over_b",
    sampling_scope: Annotated[
        str, typer.Option("--sampling-scope", help="global | per_layer")
    ] = "global",
    steps: Annotated[int, typer.Option("--steps")] = 150,
    lr: Annotated[float, typer.Option("--lr")] = 2e-3,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 32,
    seed: Annotated[
        int, typer.Option("--seed", help="Seeds everything: model init, adapter, data, dropout.")
    ] = 0,
    checkpoint_every: Annotated[
        int,
        typer.Option(
            "--checkpoint-every", help="Resumable checkpoint every N steps (0: at the end)."
        ),
    ] = 50,
    overwrite: OverwriteOpt = False,
    resume: ResumeOpt = False,
) -> None:
    """Train one DyLoRA adapter that serves every rank r_min..r_max."""
    from dylora.config import DyLoRAConfig
    from dylora.workflow import RunOptions, train_run

    config = DyLoRAConfig(
        r_max=r_max,
        r_min=r_min,
        alpha=alpha,
        target_modules=_targets(target_modules),
        update_mode=update_mode,
        scaling=scaling,
        sampling_scope=sampling_scope,
        seed=seed,
    )
    opts = RunOptions(
        model=model,
        train_file=train_file,
        eval_file=eval_file,
        text_field=text_field,
        label_field=label_field,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        checkpoint_every=checkpoint_every,
    )
    with quiet_third_party():
        metrics = train_run(out, config, opts, overwrite=overwrite, resume=resume)
    print(f"adapter: {out / 'adapter'}; metrics: {metrics.get('eval', {})}")


@app.command("eval")
def eval_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A `dylora train` folder or an adapter folder.")],
    ranks: Annotated[str, typer.Option("--ranks", help="e.g. 1-8, 1,2,4,8 or 2-8:2")] = "1-8",
    eval_file: Annotated[
        str | None, typer.Option("--eval", help="Evaluation data; default: the run's.")
    ] = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Accuracy points below the best that still count.")
    ] = 0.5,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Base model, if the folder has no run_config.json."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write ranks.json and the plot.")
    ] = None,
) -> None:
    """Evaluate a trained adapter at each rank: table, ranks.json, accuracy-vs-rank PNG."""
    from dylora.workflow import eval_run

    with quiet_third_party():
        doc = eval_run(
            run_dir, ranks, eval_file=eval_file, model_name=model, tolerance=tolerance, out=out
        )
    print(f"{'rank':>4}  {'accuracy':>8}  {'nll':>7}  {'adapter params':>14}")
    for b, row in doc["ranks"].items():
        mark = " <- best" if int(b) == doc["best_rank"] else ""
        mark += (
            " <- smallest within tolerance"
            if int(b) == doc["smallest_rank_within_tolerance"]
            else ""
        )
        print(
            f"{b:>4}  {row['accuracy']:8.4f}  {row['nll']:7.4f}  {row['adapter_params']:14d}{mark}"
        )
    print(f"plot: {doc['plot']}")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A `dylora train` folder or an adapter folder.")],
    rank: Annotated[int, typer.Option("--rank", help="The rank b to export.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    fmt: Annotated[
        str, typer.Option("--format", help="peft (LoRA adapter dir) | merged (full model)")
    ] = "peft",
    model: Annotated[
        str | None,
        typer.Option("--model", help="Base model, if the folder has no run_config.json."),
    ] = None,
) -> None:
    """Export the rank-b slice as a standard PEFT LoRA adapter or a merged model."""
    from dylora.workflow import export_run

    with quiet_third_party():
        written = export_run(run_dir, rank, out, fmt, model)
    print(f"wrote {written}")


def main() -> None:
    run_app(app)
