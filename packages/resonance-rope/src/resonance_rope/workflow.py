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

    length = train_len or cfg.train_len or 4096
    gap_len = test_len or int(length * max(cfg.factor, 4.0))
    if gap_len <= length:
        raise UserError(f"test_len: must be > train_len = {length}, got {gap_len}")
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
) -> dict:
    """Train, evaluate (own RoPE and, for yarn types, the eval-time YaRN), plot, save.

    ``epochs * (n_train // batch_size)`` steps of ``papershelf.train.fit``: AdamW (weight decay
    1e-2) under the ``one_cycle`` schedule peaking at 10 % of the steps (``TrainSettings``),
    checkpoints every quarter of the run in ``out/checkpoints`` (a rerun resumes).
    Writes ``metrics.json``, ``per_position.json``, ``per_position.png`` and the weights.
    """
    from papershelf.checkpoint import save_weights
    from papershelf.seeding import seed_everything
    from papershelf.train import fit

    check_choice("rope", rope, POSGEN_ROPES)
    settings = TrainSettings(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    seed_everything(seed)
    data = make_posgen(task)
    model, model_cfg = build_model(task, rope, yarn_schedule, yarn_preset, paper_model)
    model.to(device)
    steps = epochs * max(1, data["train"].shape[0] // batch_size)
    out = Path(out)
    config = settings.train_config(
        steps, out_dir=out / "checkpoints", checkpoint_every=max(1, steps // 4), progress=True
    )
    state = fit(model, posgen_dataset(data["train"], task), posgen_loss, config)
    metrics, switched = evaluate_with_switch(model, data["test"], task)
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
) -> torch.nn.Module:
    """Load a local Hugging Face model, set its ``rope_parameters``, save it to ``out``.

    Load the copy with ``resonance_rope.load_pretrained`` (or after ``register_hf_rope_types()``).
    """
    check_choice("type", rope_type, ROPE_TYPES)
    base_type = rope_type.removeprefix("resonance_")
    if base_type in ("yarn", "dynamic_yarn") and original_max is None:
        raise UserError(f"original-max: required for --type {rope_type}")
    from resonance_rope.hf import load_pretrained, patch_rope

    model = load_pretrained(model_dir)
    params: dict[str, Any] = {"rope_type": rope_type}
    if rope_type not in ("default", "resonance") or factor != 1.0:
        params["factor"] = factor
    if original_max is not None:
        params["original_max_position_embeddings"] = original_max
    if rope_type.endswith("yarn"):
        params.update(beta_fast=beta_fast, beta_slow=beta_slow)
    patch_rope(model, **params)
    model.save_pretrained(out)
    return model
