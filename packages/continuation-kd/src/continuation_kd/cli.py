"""``continuation-kd``: schedule, distill, reproduce, bench.

Thin: parse, build configs, call ``continuation_kd.workflow`` (imported inside the
commands, so ``--help`` never imports torch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import OverwriteOpt, ResumeOpt, make_app, run_app

from continuation_kd.config import ContinuationKDConfig, DistillConfig

app = make_app(
    "continuation-kd",
    help="Continuation-KD (Jafari et al. 2022) and its baselines (Annealing-KD, vanilla KD, "
    "TAKD, fine-tuning): distil a student from a teacher with an annealed teacher scale, "
    "hinge margin and CE weight.",
)

TMaxOpt = Annotated[int, typer.Option("--t-max", help="T_max >= 1: phi runs 1/T_max -> 1.")]
EpochsOpt = Annotated[int, typer.Option("--epochs", help="n, the number of 1-based epochs.")]
PsiOpt = Annotated[
    str,
    typer.Option(help="psi, the CE weight: eq7, eq8, linear:<den>:<end>, step:<k>, const:<c>."),
]
MarginOpt = Annotated[float, typer.Option(help="Hinge margin m >= 0 (the paper gives none).")]
DistanceOpt = Annotated[str, typer.Option(help="sum (squared L2) or mean (divided by K).")]
ScheduleOpt = Annotated[
    str, typer.Option("--schedule", help="even (default) or paper (Algorithm 1).")
]


@app.command()
def schedule(
    t_max: TMaxOpt = 10,
    epochs: EpochsOpt = 30,
    psi: PsiOpt = "eq8",
    margin: MarginOpt = 1.0,
    mode: ScheduleOpt = "even",
    anneal_epochs: Annotated[int | None, typer.Option(help="Span phi anneals over.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """Print T, phi (teacher scale), psi (CE weight) and the margin per 1-based epoch."""
    cfg = ContinuationKDConfig(
        t_max=t_max,
        n_epochs=epochs,
        psi=psi,
        margin=margin,
        schedule=mode,
        anneal_epochs=anneal_epochs,
    )
    from continuation_kd.workflow import schedule_text

    print(schedule_text(cfg, as_json=as_json))


@app.command()
def distill(
    teacher: Annotated[str, typer.Option(help="Teacher: a local model folder (or hub name).")],
    student: Annotated[str, typer.Option(help="Student: a folder, hub name or tiny-encoder.")],
    train: Annotated[Path, typer.Option(help="Training data, JSONL/CSV with text and label.")],
    val: Annotated[Path, typer.Option(help="Validation data, same format.")],
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("runs/continuation-kd"),
    method: Annotated[
        str, typer.Option(help="continuation, annealing, kd or finetune.")
    ] = "continuation",
    t_max: TMaxOpt = 10,
    epochs: EpochsOpt = 30,
    psi: PsiOpt = "eq8",
    margin: MarginOpt = 1.0,
    distance: DistanceOpt = "sum",
    batch_size: int = 32,
    lr: float = 2e-5,
    seed: int = 0,
    max_length: int = 64,
    overwrite: OverwriteOpt = False,
    resume: ResumeOpt = False,
) -> None:
    """Distil a Hugging Face sequence classifier on local data; writes student.safetensors."""
    cfg = ContinuationKDConfig(
        t_max=t_max, n_epochs=epochs, psi=psi, margin=margin, distance=distance
    )
    args = DistillConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, optimizer="adamw")
    from continuation_kd.workflow import distill_files

    summary = distill_files(
        teacher,
        student,
        train,
        val,
        out,
        method=method,
        config=cfg,
        args=args,
        max_length=max_length,
        overwrite=overwrite,
        resume=resume,
    )
    print(
        f"best epoch {summary['best_epoch']}: val accuracy {summary['val']['accuracy']:.4f}; "
        f"wrote {out / 'student.safetensors'}"
    )


def main() -> None:
    run_app(app)


__all__ = ["app", "main"]


if __name__ == "__main__":
    main()
