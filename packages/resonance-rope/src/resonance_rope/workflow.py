"""What the ``resonance-rope`` commands do, as plain functions (``cli.py`` only parses).

- ``freqs_report`` / ``print_freqs``: the per-pair table of ``resonance-rope freqs``.
- ``run_posgen_command``: ``resonance-rope posgen``, one model trained with
  ``papershelf.train.fit`` (checkpoints, resume), evaluated and plotted.
- ``patch_model``: ``resonance-rope patch``, a saved model with new ``rope_parameters``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from papershelf.config import check_choice
from papershelf.errors import UserError
from papershelf.io import atomic_write_json

from resonance_rope.config import (
    POSGEN_ROPES,
    ROPE_TYPES,
    DecoderConfig,
    PosGenConfig,
    RopeConfig,
    TrainSettings,
)
from resonance_rope.model import PosGenDecoder
from resonance_rope.posgen import make_posgen
from resonance_rope.posgen_runs import (
    YARN_PRESETS,
    YARN_SCHEDULES,
    evaluate_with_switch,
    posgen_dataset,
    posgen_loss,
    posgen_ropes,
)

__all__ = [
    "POSGEN_ROPES",
    "build_model",
    "freqs_report",
    "patch_model",
    "print_freqs",
    "run_posgen_command",
]

# ----------------------------------------------------------------------------- freqs

#: Memory ``freqs`` may use for its per-pair tables before it refuses (bytes).
MAX_TABLE_BYTES = 2 * 2**30


def freqs_report(
    cfg: RopeConfig, train_len: int | None = None, test_len: int | None = None
) -> dict[str, Any]:
    """Per pair: wavelength, rounded wavelength, pre-/post-critical, YaRN ramp weight, feature gap.

    Args:
        train_len: L of the critical split (default: ``cfg.train_len`` or 4096).
        test_len: L' of the feature gap (default: L x max(s, 4)); must be > L.

    Returns:
        ``{"config": cfg.to_dict(), "summary": {...}, "pairs": [{...} per pair]}``.
    """
    from resonance_rope.freqs import (
        compute_rope,
        default_inv_freq,
        feature_gap,
        wavelengths,
        yarn_extrapolation_weight,
    )

    if train_len is not None and train_len < 1:
        raise UserError(f"train_len: must be a positive integer, got {train_len}")
    length = train_len or cfg.train_len or 4096
    gap_len = test_len if test_len is not None else int(length * max(cfg.factor, 4.0))
    if gap_len <= length:
        raise UserError(f"test_len: must be > train_len = {length}, got {gap_len}")
    # feature_gap holds a few float64 (pairs, positions) tables at once
    need = 4 * 8 * (cfg.rotary_dim // 2) * gap_len
    if need > MAX_TABLE_BYTES:
        raise UserError(
            f"test_len: the feature-gap tables for {cfg.rotary_dim // 2} pairs x {gap_len} "
            f"positions need about {need / 2**30:.1f} GiB (at most {MAX_TABLE_BYTES / 2**30:.0f} "
            "GiB); lower --test-len or --head-dim"
        )
    f = compute_rope(cfg)
    lam_orig = wavelengths(default_inv_freq(cfg.rotary_dim, cfg.base))
    lam = wavelengths(f.inv_freq)
    gap = feature_gap(
        f.inv_freq, length, gap_len, f.int_wavelength if cfg.exact_periodicity else None
    )
    weight = (
        yarn_extrapolation_weight(cfg, cfg.original_max_position_embeddings)
        if cfg.rope_type in ("yarn", "dynamic_yarn")
        else None
    )
    rows = [
        {
            "pair": j,
            "lambda_rope": float(lam_orig[j]),
            "lambda": float(lam[j]),
            "integer": int(f.int_wavelength[j]) or None,
            "pre_critical": bool(lam[j] <= length),
            "yarn_extrapolation_weight": None if weight is None else float(weight[j]),
            "feature_gap": float(gap[j]),
        }
        for j in range(lam.numel())
    ]
    summary = {
        "rope_type": cfg.type_name,
        "attention_factor": f.attention_factor,
        "logit_scale": f.attention_factor**2,
        "train_len": length,
        "test_len": gap_len,
        "pre_critical_pairs": sum(r["pre_critical"] for r in rows),
        "pairs": len(rows),
        "max_gap_pre_critical": max(
            (r["feature_gap"] for r in rows if r["pre_critical"]), default=0.0
        ),
    }
    return {"config": cfg.to_dict(), "summary": summary, "pairs": rows}


def print_freqs(report: dict[str, Any], as_json: bool = False) -> None:
    """Print ``freqs_report``'s result as JSON or as a rich table with a summary line."""
    if as_json:
        print(json.dumps(report, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    cfg, summary, rows = report["config"], report["summary"], report["pairs"]
    table = Table(
        title=f"{summary['rope_type']}: d={cfg['head_dim']}, b={cfg['base']:g}, "
        f"s={cfg['factor']:g}, L={summary['train_len']}, L'={summary['test_len']}"
    )
    for col in ("pair", "lambda RoPE", "lambda", "integer", "split", "yarn w", "gap (eq. 8)"):
        table.add_column(col, justify="right")
    for r in rows:
        weight = r["yarn_extrapolation_weight"]
        table.add_row(
            str(r["pair"]),
            f"{r['lambda_rope']:.2f}",
            f"{r['lambda']:.2f}",
            str(r["integer"] or "-"),
            "pre" if r["pre_critical"] else "post",
            "-" if weight is None else f"{weight:.3f}",
            f"{r['feature_gap']:.3g}",
        )
    con = Console()
    con.print(table)
    factor = summary["attention_factor"]
    con.print(
        f"attention factor {factor:.5f} (logits x {factor**2:.4f}); "
        f"{summary['pre_critical_pairs']} of {summary['pairs']} pairs pre-critical; "
        f"max pre-critical gap {summary['max_gap_pre_critical']:.3g}"
    )


# ---------------------------------------------------------------------------- posgen


def build_model(
    task: PosGenConfig, rope: str, yarn_schedule: str, yarn_preset: str, paper_model: bool
) -> tuple[PosGenDecoder, DecoderConfig]:
    """(model, model_cfg): the decoder with its train-time and (maybe) eval-time RoPE."""
    check_choice("rope", rope, POSGEN_ROPES)
    model_cfg = (
        DecoderConfig.paper(task.vocab_size)
        if paper_model
        else DecoderConfig(vocab_size=task.vocab_size)
    )
    model_cfg.max_positions = task.test_len + 1
    train_rope, eval_rope = posgen_ropes(
        model_cfg.head_dim,
        task,
        resonance=rope.startswith("resonance"),
        yarn_schedule=yarn_schedule,
        yarn_preset=yarn_preset,
        with_yarn=rope.endswith("yarn"),
    )
    return PosGenDecoder(model_cfg, train_rope, eval_rope), model_cfg


#: Attention scores a training batch may keep for the backward pass (bytes) before ``posgen`` refuses.
MAX_TRAIN_ATTENTION_BYTES = 8 * 2**30

#: Attention scores one evaluation batch may hold (bytes): long --test-len means smaller batches.
EVAL_ATTENTION_BYTES = 2**28


def eval_batch_size(model_cfg: DecoderConfig, length: int, most: int = 200) -> int:
    """Sequences per evaluation forward so that the (B, H, T, T) float32 scores fit the budget."""
    per_sequence = 4 * model_cfg.n_heads * length * length
    return max(1, min(most, EVAL_ATTENTION_BYTES // per_sequence))


def posgen_run_arguments(task: PosGenConfig, rope: str, **options: Any) -> dict[str, Any]:
    """What identifies a ``posgen`` run folder (``papershelf.run_folder``): the task and options."""
    return {**{f"task.{k}": v for k, v in task.to_dict().items()}, "rope": rope, **options}


def run_posgen_command(
    task: PosGenConfig,
    rope: str,
    out: Path,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    yarn_schedule: str,
    yarn_preset: str,
    paper_model: bool,
    device: str,
    overwrite: bool = False,
    resume: bool = False,
) -> dict:
    """Train, evaluate (own RoPE and, for yarn types, the eval-time YaRN), plot, save.

    ``epochs * (n_train // batch_size)`` steps of ``papershelf.train.fit``: AdamW (weight decay
    1e-2) under the ``one_cycle`` schedule peaking at 10 % of the steps (``TrainSettings``),
    checkpoints every quarter of the run in ``out/checkpoints``. ``out`` is a run folder
    (``papershelf.run_folder.prepare_run_folder``): a rerun with the same arguments resumes
    from the newest checkpoint (and ends with the weights of an uninterrupted run); other
    arguments are refused unless ``overwrite`` (start over) or ``resume`` (continue anyway).
    Writes ``metrics.json``, ``per_position.json``, ``per_position.png`` and the weights.

    Raises:
        UserError: a bad option (checked before any work), or ``out`` holds another run.
    """
    from papershelf.checkpoint import save_weights
    from papershelf.cli import check_device
    from papershelf.run_folder import check_writable_folder, prepare_run_folder
    from papershelf.seeding import seed_everything
    from papershelf.train import fit

    check_choice("rope", rope, POSGEN_ROPES)
    check_choice("yarn_schedule", yarn_schedule, YARN_SCHEDULES)
    check_choice("yarn_preset", yarn_preset, YARN_PRESETS)
    settings = TrainSettings(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    if task.n_train < batch_size:
        raise UserError(
            f"n-train: must be >= --batch-size ({batch_size}) so that one batch fits, "
            f"got {task.n_train}"
        )
    if task.n_test < 1:
        raise UserError(f"n-test: must be >= 1 (the test sequences), got {task.n_test}")
    model_cfg = DecoderConfig.paper(task.vocab_size) if paper_model else DecoderConfig()
    length = task.train_len + 1  # attention scores kept for the backward pass, every layer
    need = 4 * 4 * batch_size * model_cfg.n_heads * model_cfg.n_layers * length * length
    if need > MAX_TRAIN_ATTENTION_BYTES:
        raise UserError(
            f"train-len: a training batch of {batch_size} x {length} tokens needs about "
            f"{need / 2**30:.1f} GiB of attention scores (at most "
            f"{MAX_TRAIN_ATTENTION_BYTES / 2**30:.0f} GiB); lower --train-len or --batch-size"
        )
    check_device(device)
    out = Path(out)
    check_writable_folder(out)
    arguments = posgen_run_arguments(
        task,
        rope,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        yarn_schedule=yarn_schedule,
        yarn_preset=yarn_preset,
        paper_model=paper_model,
    )
    prepare_run_folder(out, arguments, overwrite=overwrite, resume=resume)
    seed_everything(seed)
    data = make_posgen(task)
    model, model_cfg = build_model(task, rope, yarn_schedule, yarn_preset, paper_model)
    model.to(device)
    steps = epochs * max(1, data["train"].shape[0] // batch_size)
    config = settings.train_config(
        steps, out_dir=out / "checkpoints", checkpoint_every=max(1, steps // 4), progress=True
    )
    state = fit(model, posgen_dataset(data["train"], task), posgen_loss, config)
    metrics, switched = evaluate_with_switch(
        model, data["test"], task, eval_batch_size(model_cfg, task.test_len + 1)
    )
    results = {model.rotary.cfg.type_name: metrics}
    if switched is not None:
        results[model.eval_rotary.cfg.type_name + " (eval switch)"] = switched
    summary = {
        "task": task.to_dict(),
        "rope": rope,
        "yarn_schedule": yarn_schedule,
        "yarn_preset": yarn_preset,
        "model": model_cfg.to_dict(),
        "epochs": epochs,
        "steps": steps,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "train": config.to_dict(),
        "final_loss": state.losses[-1] if state.losses else math.nan,
        "results": {
            k: {kk: vv for kk, vv in v.items() if kk != "acc_by_position"}
            for k, v in results.items()
        },
    }
    atomic_write_json(out / "metrics.json", summary)
    atomic_write_json(
        out / "per_position.json", {k: v["acc_by_position"] for k, v in results.items()}
    )
    save_weights(
        out,
        model.state_dict(),
        {
            "task": task.to_dict(),
            "model": model_cfg.to_dict(),
            "rope": rope,
            "yarn_schedule": yarn_schedule,
            "yarn_preset": yarn_preset,
        },
    )
    _plot(results, task, out / "per_position.png")
    summary["results"] = results
    return summary


def _plot(results: dict, task: PosGenConfig, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from papershelf.io import atomic_write

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, m in results.items():
        ax.plot(
            [math.nan if v is None else 100 * v for v in m["acc_by_position"]], label=name, lw=1
        )
    ax.axvline(task.train_len + 1, color="grey", ls="--", lw=1)
    ax.set_xlabel(f"position (train length {task.train_len} + [EOS])")
    ax.set_ylabel("accuracy %")
    ax.set_title(f"PosGen {task.rule}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)


# ----------------------------------------------------------------------------- patch


def patch_model(
    model_dir: Path,
    out: Path,
    *,
    rope_type: str = "resonance_yarn",
    factor: float = 1.0,
    original_max: int | None = None,
    beta_fast: float = 32.0,
    beta_slow: float = 1.0,
    overwrite: bool = False,
) -> torch.nn.Module:
    """Load a local Hugging Face model, set its ``rope_parameters``, save it to ``out``.

    The copy is written into a temporary folder beside ``out`` and renamed into place, so
    ``out`` holds either the previous content or the whole new model. Load it with
    ``resonance_rope.load_pretrained`` (or after ``register_hf_rope_types()``).

    Raises:
        UserError: ``out`` is a file, is ``model_dir``, or is a non-empty folder (without
            ``overwrite``); the model has no rotary embedding (BERT, GPT-2 ...); bad rope options.
        FileNotFoundError: ``model_dir`` is not a model folder.
    """
    import os
    import shutil

    from papershelf.run_folder import check_writable_folder

    check_choice("type", rope_type, ROPE_TYPES)
    base_type = rope_type.removeprefix("resonance_")
    if base_type in ("yarn", "dynamic_yarn") and original_max is None:
        raise UserError(f"original-max: required for --type {rope_type}")
    model_dir, out = Path(model_dir), Path(out)
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"model_dir: {model_dir} is not a model folder (no config.json)")
    if out.exists() and not out.is_dir():
        raise UserError(f"out: {out} is a file; give a folder for the patched model")
    if out.exists() and out.resolve() == model_dir.resolve():
        raise UserError(f"out: {out} is the model folder itself; give another folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise UserError(f"out: {out} is not empty; pass --overwrite to replace it")
    check_writable_folder(out)
    from transformers import AutoConfig

    from resonance_rope.hf import _rotary_modules, load_pretrained, patch_rope

    config = AutoConfig.from_pretrained(model_dir)
    if getattr(config, "rope_parameters", None) is None:
        raise UserError(
            f"model_dir: {model_dir} holds a {config.model_type!r} model, which has no rotary "
            "position embedding (no rope_parameters); only RoPE models can be patched"
        )
    model = load_pretrained(model_dir)
    if not _rotary_modules(model):
        raise UserError(
            f"model_dir: the {config.model_type!r} model in {model_dir} has no rotary module "
            "to patch; only RoPE models can be patched"
        )
    params: dict[str, Any] = {"rope_type": rope_type}
    if rope_type not in ("default", "resonance") or factor != 1.0:
        params["factor"] = factor
    if original_max is not None:
        params["original_max_position_embeddings"] = original_max
    if rope_type.endswith("yarn"):
        params.update(beta_fast=beta_fast, beta_slow=beta_slow)
    patch_rope(model, **params)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save_pretrained(tmp)
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return model
