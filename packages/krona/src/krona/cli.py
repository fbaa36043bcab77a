"""``krona``: train, evaluate, merge and inspect KronA adapters; reproduce the paper's claims.

Thin: parse, build the configs, call ``krona.workflow`` (imported inside the commands, so
``--help`` never imports torch).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import OverwriteOpt, ResumeOpt, make_app, run_app
from papershelf.errors import UserError
from papershelf.quiet import quiet_third_party

app = make_app(
    "krona",
    help="KronA: Kronecker adapters (KronA, KronA^B, KronA^B_res) for parameter-efficient tuning.",
)

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model", help="Hub name, local folder, 'offline' (bundled MiniLM) or 'tiny-encoder'."
    ),
]


@app.command()
def train(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the adapter, its config and checkpoints.")
    ],
    model: ModelOpt = "offline",
    train_file: Annotated[
        Path | None, typer.Option("--train", help="JSONL/CSV with text,label (default: synthetic).")
    ] = None,
    eval_file: Annotated[
        Path | None, typer.Option("--eval", help="JSONL/CSV for evaluation.")
    ] = None,
    variant: Annotated[str, typer.Option(help="linear | block | block_res")] = "linear",
    scale: Annotated[float, typer.Option(help="The scale s of s·(A⊗B).")] = 1.0,
    shapes: Annotated[str, typer.Option(help="'auto' or 'A=16x16,B=24x24'.")] = "auto",
    target_modules: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated module names or dotted suffixes, or one full-match regex "
            "(text with regex characters); default query,value."
        ),
    ] = None,
    steps: int = 150,
    lr: float = 2e-3,
    batch_size: int = 32,
    seed: Annotated[
        int, typer.Option(help="Seeds everything: model init, adapter, head, data, dropout.")
    ] = 0,
    checkpoint_every: Annotated[
        int, typer.Option(help="Resumable checkpoint every N steps (0: only at the end).")
    ] = 50,
    overwrite: OverwriteOpt = False,
    resume: ResumeOpt = False,
) -> None:
    """Fine-tune KronA adapters (and a mean-pooled classifier head) on a text-classification task."""
    from papershelf.adapters.targets import parse_cli_targets
    from papershelf.train import TrainConfig

    from krona.config import KronAConfig

    # built (and so validated) before anything is loaded
    adapter_config = KronAConfig(
        variant=variant,
        scale=scale,
        shapes=shapes,
        modules_to_save=["classifier"],
        target_modules=parse_cli_targets(target_modules) if target_modules else None,
    )
    if not math.isfinite(lr):
        raise UserError(f"lr: must be a finite number > 0, got {lr!r}")
    train_config = TrainConfig(
        max_steps=steps,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        checkpoint_every=checkpoint_every,
        out_dir=out / "checkpoints",
    )
    from krona.workflow import train_adapter

    with quiet_third_party():
        record = train_adapter(
            out,
            adapter_config,
            train_config,
            model=model,
            train_file=train_file,
            eval_file=eval_file,
            overwrite=overwrite,
            resume=resume,
        )
    m = record["eval"]
    print(f"eval accuracy {m['accuracy']:.4f}  nll {m['nll']:.4f}; adapter saved to {out}")


@app.command("eval")
def eval_cmd(
    folder: Annotated[Path, typer.Argument(help="An output folder of `krona train`.")],
    eval_file: Annotated[
        Path | None,
        typer.Option("--eval", help="JSONL/CSV with text,label (default: synthetic test split)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the synthetic task (default: the training seed).")
    ] = None,
) -> None:
    """Evaluate a trained adapter: accuracy and NLL."""
    from krona.workflow import evaluate_trained

    with quiet_third_party():
        m, n = evaluate_trained(folder, eval_file, seed)
    print(f"accuracy {m['accuracy']:.4f}  nll {m['nll']:.4f}  ({n} examples)")


@app.command()
def merge(
    folder: Annotated[
        Path, typer.Argument(help="An output folder of `krona train` (variant linear).")
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder for the merged encoder (save_pretrained) and head."),
    ],
) -> None:
    """Merge W <- W0 + s·kron(A, B) and write a plain model (plain KronA only)."""
    from krona.workflow import merge_trained

    with quiet_third_party():
        merge_trained(folder, out)
    print(f"merged model written to {out} (encoder/ + classifier.safetensors)")


@app.command()
def export(
    folder: Annotated[
        Path, typer.Argument(help="An output folder of `krona train` (variant linear).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the exported adapter.")],
    format: Annotated[str, typer.Option("--format", help="Only 'peft-lokr'.")] = "peft-lokr",
) -> None:
    """Export to a PEFT LoKr adapter (needs peft: uv sync --group bench-krona)."""
    from krona.workflow import export_trained

    with quiet_third_party():
        export_trained(folder, out, format)
    print(f"PEFT LoKr adapter written to {out}")


@app.command()
def shapes(
    model: ModelOpt = "offline",
    target_modules: Annotated[
        str, typer.Option(help="Comma-separated module names.")
    ] = "query,value",
    factor: int = -1,
) -> None:
    """Print, per target, (d_out, d_in), the chosen A and B, params, equal-budget LoRA rank, cost per order."""
    from krona.workflow import shape_rows

    with quiet_third_party():
        rows = shape_rows(model, target_modules.split(","), factor)
    for row in rows:
        print(row)


def main() -> None:
    run_app(app)


__all__ = ["app", "main"]
