"""``resonance-rope``: frequency tables, PosGen train-short/test-long, HF patching, reproduce, bench.

Thin: parse, build configs, call the library. torch is imported inside commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import make_app, run_app
from papershelf.errors import UserError

from resonance_rope.config import BASE_TYPES, ROPE_TYPES, RopeConfig

app = make_app(
    "resonance-rope",
    help="Resonance RoPE: integer wavelengths for RoPE and its scaled variants (YaRN, NTK, linear, dynamic), "
    "the PosGen benchmark and Hugging Face integration.",
)

TypeOpt = Annotated[str, typer.Option("--type", help=f"RoPE type: {', '.join(ROPE_TYPES)}.")]


@app.command()
def freqs(
    head_dim: Annotated[int, typer.Option(help="Head dimension d.")] = 128,
    base: Annotated[float, typer.Option(help="RoPE base b (rope_theta).")] = 1e4,
    rope_type: TypeOpt = "default",
    resonance: Annotated[
        bool, typer.Option("--resonance", help="Round wavelengths to integers.")
    ] = False,
    factor: Annotated[float, typer.Option(help="Scale factor s >= 1.")] = 1.0,
    original_max: Annotated[
        int | None, typer.Option(help="Pre-extension training length L_orig.")
    ] = None,
    max_len: Annotated[
        int | None, typer.Option(help="max_position_embeddings (dynamic scales from it).")
    ] = None,
    train_len: Annotated[
        int | None, typer.Option(help="L of the critical split (default: L_orig or max-len).")
    ] = None,
    test_len: Annotated[
        int | None, typer.Option(help="L' of the feature gap (default: L x max(s, 4)).")
    ] = None,
    beta_fast: float = 32.0,
    beta_slow: float = 1.0,
    ramp: Annotated[
        str, typer.Option(help="YaRN ramp: code (pair index) or paper (L/lambda).")
    ] = "code",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Per pair: wavelength, rounded wavelength, pre-/post-critical, YaRN ramp weight, feature gap."""
    cfg = RopeConfig(
        head_dim=head_dim,
        base=base,
        rope_type=rope_type,
        resonance=resonance,
        factor=factor,
        original_max_position_embeddings=original_max,
        max_position_embeddings=max_len,
        beta_fast=beta_fast,
        beta_slow=beta_slow,
        ramp=ramp,
    )
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
    rows = []
    for j in range(lam.numel()):
        rows.append(
            {
                "pair": j,
                "lambda_rope": float(lam_orig[j]),
                "lambda": float(lam[j]),
                "integer": int(f.int_wavelength[j]) or None,
                "pre_critical": bool(lam[j] <= length),
                "yarn_extrapolation_weight": None if weight is None else float(weight[j]),
                "feature_gap": float(gap[j]),
            }
        )
    n_pre = sum(r["pre_critical"] for r in rows)
    summary = {
        "rope_type": cfg.type_name,
        "attention_factor": f.attention_factor,
        "logit_scale": f.attention_factor**2,
        "train_len": length,
        "test_len": gap_len,
        "pre_critical_pairs": n_pre,
        "pairs": len(rows),
        "max_gap_pre_critical": max(
            (r["feature_gap"] for r in rows if r["pre_critical"]), default=0.0
        ),
    }
    if as_json:
        print(json.dumps({"config": cfg.to_dict(), "summary": summary, "pairs": rows}, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{cfg.type_name}: d={head_dim}, b={base:g}, s={cfg.factor:g}, L={length}, L'={gap_len}"
    )
    for col in ("pair", "lambda RoPE", "lambda", "integer", "split", "yarn w", "gap (eq. 8)"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            str(r["pair"]),
            f"{r['lambda_rope']:.2f}",
            f"{r['lambda']:.2f}",
            str(r["integer"] or "-"),
            "pre" if r["pre_critical"] else "post",
            "-"
            if r["yarn_extrapolation_weight"] is None
            else f"{r['yarn_extrapolation_weight']:.3f}",
            f"{r['feature_gap']:.3g}",
        )
    con = Console()
    con.print(table)
    con.print(
        f"attention factor {f.attention_factor:.5f} (logits x {f.attention_factor**2:.4f}); "
        f"{n_pre} of {len(rows)} pairs pre-critical; max pre-critical gap {summary['max_gap_pre_critical']:.3g}"
    )


POSGEN_ROPES = ("default", "resonance", "yarn", "resonance_yarn")


@app.command()
def posgen(
    task: Annotated[str, typer.Option(help="recursive, cot or semi_recursive.")] = "semi_recursive",
    rope: Annotated[str, typer.Option(help=f"RoPE: {', '.join(POSGEN_ROPES)}.")] = "resonance_yarn",
    out: Annotated[
        Path, typer.Option(help="Folder for metrics, plot, model and checkpoints.")
    ] = Path("runs/posgen"),
    epochs: int = 8,
    n_train: int = 2000,
    n_test: int = 200,
    train_len: int = 64,
    test_len: int = 256,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    split: Annotated[
        str, typer.Option(help="disjoint (paper) or official (code's overlapping seeds).")
    ] = "disjoint",
    yarn_schedule: Annotated[
        str, typer.Option(help="eval_only (official code) or train.")
    ] = "eval_only",
    yarn_preset: Annotated[
        str, typer.Option(help="official (s=257/65, beta 2/1) or paper (s=4, beta 32/1).")
    ] = "official",
    paper_model: Annotated[
        bool, typer.Option("--paper-model", help="T5-Small-sized layers (GPU).")
    ] = False,
    device: str = "cpu",
) -> None:
    """Train on short PosGen sequences, test on long ones; per-position accuracy plot in --out."""
    if rope not in POSGEN_ROPES:
        raise UserError(f"rope: {rope!r} is unknown; choose from {', '.join(POSGEN_ROPES)}")
    from resonance_rope.posgen_config import PosGenConfig

    task_cfg = PosGenConfig(
        task,
        train_len=train_len,
        test_len=test_len,
        n_train=n_train,
        n_val=0,
        n_test=n_test,
        split=split,
        seed=seed,
    )
    from resonance_rope.train_cli import run_posgen_command

    summary = run_posgen_command(
        task_cfg,
        rope,
        out,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        yarn_schedule=yarn_schedule,
        yarn_preset=yarn_preset,
        paper_model=paper_model,
        device=device,
    )
    for name, m in summary["results"].items():
        print(f"{name:>16}: ID {100 * m['id_acc']:.2f} %  OOD {100 * m['ood_acc']:.2f} %")
    print(f"wrote {out / 'metrics.json'}, {out / 'per_position.png'}")


@app.command()
def patch(
    model_dir: Annotated[Path, typer.Argument(help="A local Hugging Face model folder.")],
    out: Annotated[Path, typer.Option(help="Where to write the patched model.")],
    rope_type: TypeOpt = "resonance_yarn",
    factor: float = 1.0,
    original_max: Annotated[
        int | None, typer.Option(help="Pre-extension training length L_orig.")
    ] = None,
    beta_fast: float = 32.0,
    beta_slow: float = 1.0,
) -> None:
    """Write a copy of a model with new rope_parameters (load it after register_hf_rope_types())."""
    if rope_type not in ROPE_TYPES:
        raise UserError(f"type: {rope_type!r} is unknown; choose from {', '.join(ROPE_TYPES)}")
    from resonance_rope.hf import load_pretrained, patch_rope

    model = load_pretrained(model_dir)
    params: dict = {"rope_type": rope_type}
    if rope_type not in ("default", "resonance") or factor != 1.0:
        params["factor"] = factor
    if original_max is not None:
        params["original_max_position_embeddings"] = original_max
    if rope_type.endswith("yarn"):
        params.update(beta_fast=beta_fast, beta_slow=beta_slow)
    base_type = rope_type.removeprefix("resonance_")
    if base_type in ("yarn", "dynamic_yarn") and original_max is None:
        raise UserError(f"original-max: required for --type {rope_type}")
    patch_rope(model, **params)
    model.save_pretrained(out)
    print(f"wrote {out} with rope_parameters {model.config.rope_parameters}")
    print(
        "load it with resonance_rope.load_pretrained(path), or call resonance_rope.register_hf_rope_types() "
        "before AutoModelForCausalLM.from_pretrained"
    )


def main() -> None:
    run_app(app)


__all__ = ["BASE_TYPES", "app", "main"]
