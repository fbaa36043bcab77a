"""``flows``: fit a flow to a CSV, sample it, score points, tail diagnostics, reproduce, bench.

A thin typer app: each command parses its options and calls ``flows.workflow``, imported
inside the command (with torch) so that ``flows --help`` answers at once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import make_app, run_app
from papershelf.errors import UserError

app = make_app(
    "flows",
    help="Normalizing flows: the review's families, tail-adaptive flows (TAF) "
    "and equivariant finite flows.",
)


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(h) for h in text.split(",") if h.strip())
    except ValueError:
        raise UserError(f"hidden: must be comma-separated sizes like 64,64, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise UserError(f"hidden: must be comma-separated positive sizes like 64,64, got {text!r}")
    return sizes


@app.command()
def fit(
    data: Annotated[Path, typer.Argument(help="CSV of numeric rows (optional header).")],
    arch: Annotated[
        str,
        typer.Option(
            help="maf, iaf, nsf, nsf-coupling, realnvp, nice, planar, "
            "radial, resflow, gresflow, gcoupling, giaf"
        ),
    ] = "maf",
    base: Annotated[str, typer.Option(help="normal or student-t (TAF)")] = "normal",
    df: Annotated[
        str, typer.Option(help="Student-t nu: shared (TAF) or per-dim (gTAF)")
    ] = "shared",
    group: Annotated[str | None, typer.Option(help="group of G-flows: C4, D4, Flip, Perm3")] = None,
    transforms: int = 5,
    hidden: Annotated[str, typer.Option(help="hidden sizes, e.g. 64,64")] = "64,64",
    bins: int = 8,
    steps: int = 3000,
    batch: int = 1024,
    lr: float = 1e-3,
    df_lr_mult: float = 10.0,
    seed: int = 0,
    standardize: Annotated[bool, typer.Option(help="robust (median/MAD) standardisation")] = True,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("runs/flow"),
    checkpoint_every: Annotated[
        int, typer.Option(help="write a resumable checkpoint every N steps (0: only at the end)")
    ] = 200,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="start over in an --out that holds another run")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="continue the run in --out with new training options (same model/data)"
        ),
    ] = False,
) -> None:
    """Fit a flow by maximum likelihood; writes model.safetensors + model_config.json (+ plot for 2-D).

    A rerun with the same arguments into the same --out resumes from the last checkpoint."""
    import warnings

    from flows.data import DegenerateColumnWarning
    from flows.workflow import fit_csv

    def one_line(message, category, *args, **kwargs):  # a named warning as one stderr line
        if issubclass(category, DegenerateColumnWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            default_show(message, category, *args, **kwargs)

    default_show, warnings.showwarning = warnings.showwarning, one_line
    report = fit_csv(
        data,
        arch=arch,
        base=base,
        df=df,
        group=group,
        transforms=transforms,
        hidden=_hidden(hidden),
        bins=bins,
        steps=steps,
        batch=batch,
        lr=lr,
        df_lr_mult=df_lr_mult,
        seed=seed,
        standardize=standardize,
        out=out,
        checkpoint_every=checkpoint_every,
        overwrite=overwrite,
        resume=resume,
    )
    print(f"train NLL {report.nll:.4f} nats (data units); saved {report.model}")
    if report.df is not None:
        print(f"learned degrees of freedom: {', '.join(f'{v:.3g}' for v in report.df)}")
    if report.plot is not None:
        print(f"plot: {report.plot}")


@app.command()
def sample(
    model: Annotated[Path, typer.Argument(help="folder written by `flows fit`")],
    n: Annotated[
        int, typer.Option("-n", help="number of samples (refused if beyond the RAM)")
    ] = 1000,
    seed: int = 0,
    out: Annotated[Path, typer.Option(help="CSV to write")] = Path("samples.csv"),
) -> None:
    """Draw samples from a fitted flow (in data units)."""
    from flows.workflow import sample_csv

    sample_csv(model, n=n, seed=seed, out=out)
    print(f"wrote {n} samples to {out}")


@app.command()
def logprob(
    model: Annotated[Path, typer.Argument(help="folder written by `flows fit`")],
    data: Annotated[Path, typer.Argument(help="CSV of points to score")],
    out: Annotated[Path, typer.Option(help="CSV to write (one log-density per row)")] = Path(
        "logprob.csv"
    ),
) -> None:
    """Log-density of each row of a CSV under a fitted flow (nats, data units)."""
    from flows.workflow import logprob_csv

    mean, rows = logprob_csv(model, data, out=out)
    print(f"mean log p = {mean:.4f} over {rows} rows; wrote {out}")


@app.command()
def tails(
    data: Annotated[Path, typer.Argument(help="CSV of numeric rows")],
    k: Annotated[
        float, typer.Option(help="top order statistics: a fraction (<1) or a count")
    ] = 0.005,
) -> None:
    """Per-column Hill tail index nu (survival ~ x^-nu) and Parzen alpha = 1 + 1/nu."""
    from flows.workflow import tails_csv

    for i, (nu, alpha) in enumerate(tails_csv(data, k)):
        print(f"column {i + 1}: nu = {nu:.3f}, alpha = {alpha:.3f}")


def main() -> None:
    run_app(app)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
