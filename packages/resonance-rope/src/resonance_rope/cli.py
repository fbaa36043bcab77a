"""``resonance-rope``: frequency tables, PosGen train-short/test-long, HF patching, reproduce, bench.

Thin: parse, build configs, call ``resonance_rope.workflow`` (imported inside the commands,
so ``--help`` never imports torch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import OverwriteOpt, ResumeOpt, make_app, run_app
from papershelf.config import check_choice
from papershelf.errors import UserError

from resonance_rope.config import BASE_TYPES, POSGEN_ROPES, ROPE_TYPES, PosGenConfig, RopeConfig

app = make_app(
    "resonance-rope",
    help="Resonance RoPE: integer wavelengths for RoPE and its scaled variants (YaRN, NTK, linear, dynamic), "
    "the PosGen benchmark and Hugging Face integration.",
)

#: The longest PosGen test sequence the ``posgen`` command accepts.
MAX_POSGEN_LEN = 4096

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
    from resonance_rope.workflow import freqs_report, print_freqs

    print_freqs(freqs_report(cfg, train_len, test_len), as_json=as_json)


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
    device: Annotated[str, typer.Option(help="torch device, e.g. cpu or cuda:0.")] = "cpu",
    overwrite: OverwriteOpt = False,
    resume: ResumeOpt = False,
) -> None:
    """Train on short PosGen sequences, test on long ones; per-position accuracy plot in --out.

    A rerun into the same --out with the same options resumes from the last checkpoint;
    other options are refused unless --overwrite (start over) or --resume (continue anyway).
    """
    check_choice("rope", rope, POSGEN_ROPES)  # before torch loads: a typo fails at once
    if n_train < 1:
        raise UserError(f"n-train: must be >= --batch-size ({batch_size}), got {n_train}")
    if test_len > MAX_POSGEN_LEN:
        raise UserError(f"test-len: must be <= {MAX_POSGEN_LEN}, got {test_len}")
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
    from resonance_rope.workflow import run_posgen_command

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
        overwrite=overwrite,
        resume=resume,
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
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a non-empty --out folder.")
    ] = False,
) -> None:
    """Write a copy of a model with new rope_parameters (load it after register_hf_rope_types()).

    The copy is written beside --out and renamed into place; a non-empty --out is refused
    unless --overwrite, and models without rotary embeddings (BERT, GPT-2) are refused.
    """
    check_choice("type", rope_type, ROPE_TYPES)
    from resonance_rope.workflow import patch_model

    model = patch_model(
        model_dir,
        out,
        rope_type=rope_type,
        factor=factor,
        original_max=original_max,
        beta_fast=beta_fast,
        beta_slow=beta_slow,
        overwrite=overwrite,
    )
    print(f"wrote {out} with rope_parameters {model.config.rope_parameters}")
    print(
        "load it with resonance_rope.load_pretrained(path), or call "
        "resonance_rope.register_hf_rope_types() before AutoModelForCausalLM.from_pretrained"
    )


def main() -> None:
    run_app(app)


__all__ = ["BASE_TYPES", "app", "main"]
