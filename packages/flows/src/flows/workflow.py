"""What the ``flows`` commands do, as plain functions: fit, sample, logprob, tails.

A fitted flow is a folder with ``model.safetensors`` and ``model_config.json`` (the
``FlowConfig`` under ``"flow"``, the data scaler under ``"scaler"``, the training options and
the learned degrees of freedom), ``run_fingerprint.json`` (the arguments and the data's
SHA-256), ``checkpoints/`` (written every ``checkpoint_every`` steps by
``papershelf.train.fit``, which resumes from the newest) and ``density.png`` for 2-D data.
Rerunning into a folder resumes only when the fingerprint matches; otherwise it is refused
unless ``overwrite`` (start over) or ``resume`` (continue the same model on the same data
with the new training options). Torch is imported when a function runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papershelf.errors import UserError

from flows.config import FlowConfig

__all__ = ["FitReport", "fit_csv", "load_fitted", "logprob_csv", "sample_csv", "tails_csv"]

META_KEYS = ("flow", "scaler", "train", "df")
FINGERPRINT = "run_fingerprint.json"
RUN_FILES = ("model.safetensors", "model_config.json", "density.png", FINGERPRINT)
MAX_MEMORY_SHARE = 0.5  # refuse a sample that would need more than this share of the RAM


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
    checkpoint_every: int = 200,
    overwrite: bool = False,
    resume: bool = False,
    hooks: tuple = (),
) -> FitReport:
    """Fit a flow to the rows of a CSV by maximum likelihood and save it in ``out``.

    Training runs through ``papershelf.train.fit``: a checkpoint every ``checkpoint_every``
    steps (and at the end) in ``out/checkpoints``; a rerun resumes from the newest one and
    ends with the same weights, bit for bit, as an uninterrupted run. ``hooks`` are extra
    ``papershelf.train.Hook`` s. Everything the user gives is checked before training:
    ``out`` is a writable folder (not a file), the data is UTF-8 with no constant or
    mostly-one-value column, and a folder holding a run with other arguments is refused
    unless ``overwrite`` or ``resume``.
    """
    import torch
    from papershelf.train import TrainConfig
    from papershelf.train import fit as train_fit

    from flows.config import build_flow, save_flow
    from flows.data import RobustScaler, check_columns, read_csv
    from flows.fitting import nll_loss

    if overwrite and resume:
        raise UserError("overwrite/resume: pass at most one of --overwrite and --resume")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int):
        raise UserError(f"checkpoint_every: must be an integer >= 0, got {checkpoint_every!r}")
    if checkpoint_every < 0:
        raise UserError(
            f"checkpoint_every: must be >= 0 (0: only at the end), got {checkpoint_every}"
        )
    _check_out_folder(out)
    x = read_csv(data)
    check_columns(x, data)
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
    batch = min(batch, len(x)) if batch >= 1 else batch
    tc = TrainConfig(
        max_steps=steps,
        lr=lr,
        batch_size=batch,
        max_grad_norm=5.0,
        optimizer="adam",
        seed=seed,
        checkpoint_every=checkpoint_every,
        out_dir=out / "checkpoints",
        progress=True,
        log_every=20,
    )
    if not df_lr_mult > 0:
        raise UserError(f"df_lr_mult: must be > 0, got {df_lr_mult}")
    fingerprint = {
        "model": {**config.to_dict(), "standardize": standardize},
        "data_sha256": hashlib.sha256(Path(data).read_bytes()).hexdigest(),
        "train": {
            "steps": steps,
            "batch": batch,
            "lr": lr,
            "df_lr_mult": df_lr_mult,
            "seed": seed,
            "checkpoint_every": checkpoint_every,
        },
    }
    _claim_folder(out, fingerprint, overwrite=overwrite, resume=resume)

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
    buffers = _BufferCheckpoint(out / "checkpoints")
    buffers.restore(flow)
    state = train_fit(flow, z, nll_loss, tc, optimizer=optimizer, hooks=[*hooks, buffers])
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


def _check_out_folder(out: Path) -> None:
    """``out`` is (or can be made) a writable folder; refused before any work otherwise."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"out: {out} is a file; --out must be a folder (new or from `flows fit`)")
    parent = next((p for p in [out, *out.parents] if p.exists()), Path("."))
    if not parent.is_dir():
        raise UserError(f"out: {parent} is a file, so {out} cannot be created")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"out: {parent} is not writable; choose another --out")


def _check_out_file(out: Path) -> None:
    """``out`` is a file path whose folder exists (or can be made) and is writable."""
    out = Path(out)
    if out.is_dir():
        raise UserError(f"out: {out} is a folder; --out must be a file path such as {out}/x.csv")
    _check_out_folder(out.parent)


def _claim_folder(out: Path, fingerprint: dict, *, overwrite: bool, resume: bool) -> None:
    """Refuse a folder that holds a run with other arguments (unless ``overwrite``/``resume``),
    clear it for ``overwrite``, then record ``fingerprint``."""
    from papershelf.io import atomic_write_json

    fp_path = out / FINGERPRINT
    ckpts = out / "checkpoints"
    has_run = fp_path.is_file() or ckpts.exists() or (out / "model.safetensors").is_file()
    if has_run and overwrite:
        shutil.rmtree(ckpts, ignore_errors=True)
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
    elif has_run:
        try:
            old = json.loads(fp_path.read_text()) if fp_path.is_file() else None
        except json.JSONDecodeError:
            old = None
        if old != fingerprint:
            if old is None:
                what = "a run without a readable run_fingerprint.json"
            else:
                diff = [
                    f"{k}: {old.get(part, {}).get(k)!r} -> {v!r}"
                    for part in ("model", "train")
                    for k, v in fingerprint[part].items()
                    if old.get(part, {}).get(k) != v
                ]
                if old.get("data_sha256") != fingerprint["data_sha256"]:
                    diff.insert(0, "the data file's content")
                what = f"a run with other arguments ({'; '.join(diff)})"
            same_model = old is not None and (
                old.get("model") == fingerprint["model"]
                and old.get("data_sha256") == fingerprint["data_sha256"]
            )
            if not (resume and same_model):
                hint = (
                    "pass --overwrite to start over or --resume to continue it with the new "
                    "training options"
                    if same_model
                    else "pass --overwrite to start over (another model or data cannot be resumed)"
                )
                raise UserError(f"out: {out} holds {what}; {hint}")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(fp_path, fingerprint)


class _BufferCheckpoint:
    """Saves the flow's buffers (spectral-norm power-iteration vectors, ...) beside each
    checkpoint of ``papershelf.train.fit``, which keeps the trainable weights only, so that a
    resumed run continues exactly; ``restore`` loads those of the newest checkpoint."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, step: int) -> Path:
        return self.folder / f"buffers-{step}.safetensors"

    def restore(self, flow) -> None:
        from papershelf.checkpoint import load_tensors
        from papershelf.train import latest_checkpoint

        ckpt = latest_checkpoint(self.folder) if self.folder.is_dir() else None
        if ckpt is None:
            return
        path = self._path(int(ckpt.name.split("-")[-1]))
        if path.is_file():
            flow.load_state_dict(load_tensors(path, "checkpoint"), strict=False)

    # papershelf.train.Hook's interface
    def on_train_start(self, state) -> None: ...

    def on_step_start(self, state) -> None: ...

    def on_eval(self, state, metrics) -> None: ...

    def on_train_end(self, state) -> None: ...

    def on_step_end(self, state) -> None:
        from papershelf.checkpoint import save_tensors

        cfg = state.config
        due = cfg.checkpoint_every and state.step % cfg.checkpoint_every == 0
        if not (due or state.step == cfg.max_steps or state.stop):
            return
        params = {n for n, _ in state.model.named_parameters()}
        buffers = {k: v for k, v in state.model.state_dict().items() if k not in params}
        if not buffers:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        save_tensors(self._path(state.step), buffers)
        for old in sorted(
            self.folder.glob("buffers-*.safetensors"), key=lambda p: int(p.stem.split("-")[1])
        )[:-3]:
            old.unlink(missing_ok=True)


def load_fitted(model: Path):
    """``(flow, config, scaler)`` of a folder written by ``fit_csv`` (eval mode); unknown
    keys in ``model_config.json`` and a scaler whose shape is not ``(features,)`` are refused."""
    import torch

    from flows.config import load_flow
    from flows.data import RobustScaler

    flow, config, meta = load_flow(model)
    unknown = sorted(set(meta) - set(META_KEYS))
    if unknown:
        raise UserError(
            f"model: {Path(model) / 'model_config.json'} has unknown key(s) {unknown}; "
            f"known: {', '.join(META_KEYS)}"
        )
    sc = meta.get("scaler") or {}
    if set(sc) - {"center", "scale"}:
        raise UserError(
            f"model: scaler has unknown key(s) {sorted(set(sc) - {'center', 'scale'})}; "
            "known: center, scale"
        )
    d = config.features
    parts = {}
    for key, default in (("center", 0.0), ("scale", 1.0)):
        try:
            value = torch.tensor(sc.get(key, [default] * d), dtype=torch.float32)
        except (TypeError, ValueError):
            raise UserError(f"model: scaler {key} must be a list of {d} numbers") from None
        if value.shape != (d,):
            raise UserError(
                f"model: scaler {key} has shape {tuple(value.shape)}, the flow has {d} "
                f"features: expected ({d},)"
            )
        if not bool(torch.isfinite(value).all()):
            raise UserError(f"model: scaler {key} holds a non-finite value")
        parts[key] = value
    if bool((parts["scale"] <= 0).any()):
        raise UserError("model: scaler scale must be > 0 in every feature")
    return flow, config, RobustScaler(parts["center"], parts["scale"])


def _sample_bytes(n: int, features: int, hidden: tuple[int, ...]) -> float:
    """Rough peak memory of ``sample_csv``: the samples in float32 and float64, their CSV
    text and Python floats (~80 bytes a value), plus the flow's activations."""
    return float(n) * (features * 80 + 3 * 4 * sum(hidden))


def _physical_memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8e9


def sample_csv(model: Path, n: int = 1000, seed: int = 0, out: Path = Path("samples.csv")) -> int:
    """Write ``n`` samples of a fitted flow (data units) to the CSV ``out``; returns ``n``.

    ``n`` is refused, before any work, when its estimated memory exceeds half of the RAM."""
    import torch

    from flows.data import write_csv

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UserError(f"n: must be an integer >= 1, got {n!r}")
    _check_out_file(out)
    flow, config, scaler = load_fitted(model)
    need, have = _sample_bytes(n, config.features, config.hidden), _physical_memory()
    if need > MAX_MEMORY_SHARE * have:
        most = int(MAX_MEMORY_SHARE * have / _sample_bytes(1, config.features, config.hidden))
        raise UserError(
            f"n: {n} samples of {config.features} features need about {need / 1e9:.3g} GB, more "
            f"than half of this machine's {have / 1e9:.3g} GB; ask for at most {most} per call"
        )
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

    _check_out_file(out)
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
