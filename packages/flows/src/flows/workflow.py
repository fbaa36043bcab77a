"""What the ``flows`` commands do, as plain functions: fit, sample, logprob, tails.

A fitted flow is a folder with ``model.safetensors`` and ``model_config.json`` (the
``FlowConfig`` under ``"flow"``, the data scaler under ``"scaler"``, the training options and
the learned degrees of freedom), plus ``checkpoints/`` (``papershelf.train.fit`` resumes from
it) and ``density.png`` for 2-D data. Torch is imported when a function runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papershelf.errors import UserError

from flows.config import FlowConfig

__all__ = ["FitReport", "fit_csv", "load_fitted", "logprob_csv", "sample_csv", "tails_csv"]


@dataclass
class FitReport:
    """What ``fit_csv`` did: the train NLL (nats, data units), the files it wrote."""

    nll: float
    model: Path
    df: list[float] | None = None
    plot: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def fit_csv(
    data: Path,
    *,
    arch: str = "maf",
    base: str = "normal",
    df: str = "shared",
    group: str | None = None,
    transforms: int = 5,
    hidden: tuple[int, ...] = (64, 64),
    bins: int = 8,
    steps: int = 3000,
    batch: int = 1024,
    lr: float = 1e-3,
    df_lr_mult: float = 10.0,
    seed: int = 0,
    standardize: bool = True,
    out: Path = Path("runs/flow"),
) -> FitReport:
    """Fit a flow to the rows of a CSV by maximum likelihood (``papershelf.train.fit``:
    checkpoints in ``out/checkpoints``, resumed when present); save it in ``out``."""
    import torch
    from papershelf.train import TrainConfig
    from papershelf.train import fit as train_fit

    from flows.config import build_flow, save_flow
    from flows.data import RobustScaler, read_csv
    from flows.fitting import nll_loss

    x = read_csv(data)
    config = FlowConfig(
        features=x.shape[1],
        arch=arch,
        base=base,
        df=df,
        group=group,
        transforms=transforms,
        hidden=hidden,
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
        optimizer="adam",
        seed=seed,
        out_dir=out / "checkpoints",
        progress=True,
        log_every=20,
    )
    state = train_fit(flow, z, nll_loss, tc, optimizer=optimizer)
    flow.eval()
    with torch.no_grad():
        nll = float(-flow().log_prob(z).mean()) - scaler.log_abs_det()
    meta: dict[str, Any] = {
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
    report = FitReport(nll=nll, model=out / "model.safetensors", df=meta.get("df"), meta=meta)
    if d == 2:
        from flows.plots import plot_densities

        with torch.no_grad():
            samples = scaler.inverse(flow().sample((5000,)))
        box = float(x.abs().quantile(0.99)) * 1.2

        def logp(p: torch.Tensor) -> torch.Tensor:
            return flow().log_prob(scaler.transform(p)) + scaler.log_abs_det()

        report.plot = out / "density.png"
        plot_densities(report.plot, {"data": x, "density": logp, "samples": samples}, box=box)
    return report


def load_fitted(model: Path):
    """``(flow, config, scaler)`` of a folder written by ``fit_csv`` (eval mode)."""
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


def sample_csv(model: Path, n: int = 1000, seed: int = 0, out: Path = Path("samples.csv")) -> int:
    """Write ``n`` samples of a fitted flow (data units) to the CSV ``out``; returns ``n``."""
    import torch

    from flows.data import write_csv

    if n < 1:
        raise UserError(f"n: must be >= 1, got {n}")
    flow, config, scaler = load_fitted(model)
    torch.manual_seed(seed)
    with torch.no_grad():
        x = scaler.inverse(flow().sample((n,)))
    write_csv(out, x, [f"x{i}" for i in range(config.features)])
    return n


def logprob_csv(model: Path, data: Path, out: Path = Path("logprob.csv")) -> tuple[float, int]:
    """Write the log-density (nats, data units) of each row of ``data`` to ``out``;
    returns ``(mean log p, rows)``."""
    import torch

    from flows.data import read_csv, write_csv

    flow, config, scaler = load_fitted(model)
    x = read_csv(data, features=config.features)
    with torch.no_grad():
        lp = flow().log_prob(scaler.transform(x)) + scaler.log_abs_det()
    write_csv(out, lp, ["log_prob"])
    return float(lp.mean()), len(x)


def tails_csv(data: Path, k: float = 0.005) -> list[tuple[float, float]]:
    """Per column, the Hill tail index nu (``k`` top order statistics: a fraction below 1,
    else a count) and Parzen's ``alpha = 1 + 1/nu``."""
    from flows.data import read_csv
    from flows.tails import hill, parzen_alpha

    x = read_csv(data)
    nu = hill(x, k if k < 1 else int(k))
    return [(v, parzen_alpha(v)) for v in nu.tolist()]
