"""``flows``: fit a flow to a CSV, sample it, score points, tail diagnostics, reproduce, bench.

Torch is imported inside the commands so that ``flows --help`` answers at once.
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
) -> None:
    """Fit a flow by maximum likelihood; writes model.safetensors + model_config.json (+ plot for 2-D)."""
    import torch
    from papershelf.train import TrainConfig
    from papershelf.train import fit as train_fit

    from flows.config import FlowConfig, build_flow, save_flow
    from flows.data import RobustScaler, read_csv

    x = read_csv(data)
    config = FlowConfig(
        features=x.shape[1],
        arch=arch,
        base=base,
        df=df,
        group=group,
        transforms=transforms,
        hidden=_hidden(hidden),
        bins=bins,
    )
    torch.manual_seed(seed)
    d = x.shape[1]
    if not standardize:
        scaler = RobustScaler(torch.zeros(d), torch.ones(d))
    elif group is not None:
        # a per-coordinate scaler would break the symmetry: one shared scale, no shift
        scaler = RobustScaler(torch.zeros(d), torch.full((d,), float(x.pow(2).mean().sqrt())))
    else:
        scaler = RobustScaler.fit(x)
    z = scaler.transform(x)
    flow = build_flow(config)
    optimizer = torch.optim.Adam(flow.param_groups(lr, df_lr_mult))
    batch = min(batch, len(z))
    tc = TrainConfig(
        max_steps=steps,
        lr=lr,
        batch_size=batch,
        max_grad_norm=5.0,
        seed=seed,
        out_dir=out / "checkpoints",
        progress=True,
        log_every=20,
    )
    state = train_fit(flow, z, lambda m, b: -m().log_prob(b).mean(), tc, optimizer=optimizer)
    flow.eval()
    with torch.no_grad():
        nll = float(-flow().log_prob(z).mean()) - scaler.log_abs_det()
    meta = {
        "scaler": {"center": scaler.center.tolist(), "scale": scaler.scale.tolist()},
        "train": {
            "steps": steps,
            "batch": batch,
            "lr": lr,
            "df_lr_mult": df_lr_mult,
            "seed": seed,
            "data": str(data),
            "final_train_nll": nll,
            "last_loss": state.losses[-1] if state.losses else None,
        },
    }
    if config.base == "student-t":
        meta["df"] = [float(v) for v in flow.base.df.detach()]
    save_flow(out, flow, config, meta)
    print(f"train NLL {nll:.4f} nats (data units); saved {out / 'model.safetensors'}")
    if "df" in meta:
        print(f"learned degrees of freedom: {', '.join(f'{v:.3g}' for v in meta['df'])}")
    if x.shape[1] == 2:
        from flows.claims.common import plot_densities

        with torch.no_grad():
            samples = scaler.inverse(flow().sample((5000,)))
        box = float(x.abs().quantile(0.99)) * 1.2

        def logp(p: torch.Tensor) -> torch.Tensor:
            return flow().log_prob(scaler.transform(p)) + scaler.log_abs_det()

        plot_densities(
            out / "density.png", {"data": x, "density": logp, "samples": samples}, box=box
        )
        print(f"plot: {out / 'density.png'}")


def _load(model: Path):
    import torch

    from flows.config import load_flow
    from flows.data import RobustScaler

    flow, config, meta = load_flow(model)
    sc = meta.get("scaler") or {}
    d = config.features
    scaler = RobustScaler(
        torch.tensor(sc.get("center", [0.0] * d)), torch.tensor(sc.get("scale", [1.0] * d))
    )
    return flow, config, scaler


@app.command()
def sample(
    model: Annotated[Path, typer.Argument(help="folder written by `flows fit`")],
    n: Annotated[int, typer.Option("-n", help="number of samples")] = 1000,
    seed: int = 0,
    out: Annotated[Path, typer.Option(help="CSV to write")] = Path("samples.csv"),
) -> None:
    """Draw samples from a fitted flow (in data units)."""
    import torch

    from flows.data import write_csv

    if n < 1:
        raise UserError(f"n: must be >= 1, got {n}")
    flow, config, scaler = _load(model)
    torch.manual_seed(seed)
    with torch.no_grad():
        x = scaler.inverse(flow().sample((n,)))
    write_csv(out, x, [f"x{i}" for i in range(config.features)])
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
    import torch

    from flows.data import read_csv, write_csv

    flow, config, scaler = _load(model)
    x = read_csv(data, features=config.features)
    with torch.no_grad():
        lp = flow().log_prob(scaler.transform(x)) + scaler.log_abs_det()
    write_csv(out, lp, ["log_prob"])
    print(f"mean log p = {float(lp.mean()):.4f} over {len(x)} rows; wrote {out}")


@app.command()
def tails(
    data: Annotated[Path, typer.Argument(help="CSV of numeric rows")],
    k: Annotated[
        float, typer.Option(help="top order statistics: a fraction (<1) or a count")
    ] = 0.005,
) -> None:
    """Per-column Hill tail index nu (survival ~ x^-nu) and Parzen alpha = 1 + 1/nu."""
    from flows.data import read_csv
    from flows.tails import hill, parzen_alpha

    x = read_csv(data)
    nu = hill(x, k if k < 1 else int(k))
    for i, v in enumerate(nu.tolist()):
        print(f"column {i + 1}: nu = {v:.3f}, alpha = {parzen_alpha(v):.3f}")


def main() -> None:
    run_app(app)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
