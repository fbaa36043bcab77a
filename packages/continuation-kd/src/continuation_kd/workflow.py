"""What the CLI commands do, as plain functions (usable and tested without the CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from papershelf.errors import UserError

from continuation_kd.config import ContinuationKDConfig, DistillConfig

__all__ = ["distill_files", "schedule_rows", "schedule_text"]


def schedule_rows(config: ContinuationKDConfig) -> list[dict[str, Any]]:
    """Per 1-based epoch: ``epoch, T, phi, psi, margin`` (the hinge threshold m·factor)."""
    from continuation_kd.schedule import ContinuationSchedule

    return [
        {
            "epoch": s.epoch,
            "T": s.T,
            "phi": s.phi,
            "psi": s.psi,
            "margin": config.margin * s.margin_factor,
        }
        for s in ContinuationSchedule(config).table()
    ]


def schedule_text(config: ContinuationKDConfig, as_json: bool = False) -> str:
    """The schedule as an aligned table (or JSON lines)."""
    rows = schedule_rows(config)
    if as_json:
        return "\n".join(json.dumps(r) for r in rows)
    lines = [f"{'epoch':>5} {'T':>3} {'phi':>7} {'psi':>7} {'margin':>8}"]
    lines += [
        f"{r['epoch']:>5} {r['T']:>3} {r['phi']:>7.4f} {r['psi']:>7.4f} {r['margin']:>8.4f}"
        for r in rows
    ]
    return "\n".join(lines)


def _method_config(method: str, cont: ContinuationKDConfig, epochs: int) -> Any:
    from continuation_kd.config import AnnealingKDConfig, FineTuneConfig, VanillaKDConfig

    if method == "continuation":
        return cont
    if method == "annealing":
        phase1 = max(cont.t_max, (2 * epochs) // 3)
        return AnnealingKDConfig(
            t_max=cont.t_max, phase1_epochs=phase1, phase2_epochs=epochs - phase1
        )
    if method == "kd":
        return VanillaKDConfig()
    if method == "finetune":
        return FineTuneConfig()
    raise UserError(
        f"method: must be one of 'continuation', 'annealing', 'kd', 'finetune', got {method!r}"
    )


def _check_teacher_labels(k_t: int, k: int) -> None:
    if k_t != k:
        raise UserError(
            f"teacher: has {k_t} labels, the data (and student) {k}; they must have the same "
            "label count"
        )


def distill_files(
    teacher: str,
    student: str,
    train_file: Path,
    val_file: Path,
    out: Path,
    *,
    method: str,
    config: ContinuationKDConfig,
    args: DistillConfig,
    max_length: int = 64,
    overwrite: bool = False,
    resume: bool = False,
) -> dict[str, Any]:
    """Distil a Hugging Face sequence classifier from local JSONL/CSV files
    (``{"text": ..., "label": ...}``).

    The teacher's logits are computed once with the teacher's own tokenizer and cached in
    ``out/teacher_logits.safetensors``; the student (a folder, a hub name or
    ``tiny-encoder``/``offline``) gets a head with the data's label count. Writes
    ``out/student.safetensors`` (+ ``student_config.json``), ``history.json`` and
    ``config.json``; checkpoints every epoch in ``out/checkpoints`` and resumes from them.
    """
    from papershelf.checkpoint import save_weights
    from papershelf.data import read_text_classification
    from papershelf.distill import cached_teacher_logits
    from papershelf.io import atomic_write_json
    from papershelf.models import load_model
    from papershelf.quiet import quiet_third_party
    from papershelf.run_folder import prepare_run_folder
    from papershelf.seeding import seed_everything
    from papershelf.text_classification import encode

    from continuation_kd.distillation import distill, evaluate

    method_cfg = _method_config(method, config, args.epochs)
    for f, name in ((train_file, "train"), (val_file, "val")):
        if not Path(f).is_file():
            raise UserError(f"{name}: {f} does not exist")
    train = read_text_classification(train_file)
    val = read_text_classification(val_file, label_names=train.label_names)
    k = len(train.label_names)
    arguments = {
        "teacher": teacher,
        "student": student,
        "method": method,
        **{f"config.{a}": v for a, v in config.to_dict().items()},
        **{f"args.{a}": v for a, v in args.to_dict().items()},
        "max_length": max_length,
    }
    resumed = prepare_run_folder(
        out, arguments, files=[train_file, val_file], overwrite=overwrite, resume=resume
    )
    if Path(teacher).is_dir():  # refuse a label-count mismatch before loading any weights
        from transformers import AutoConfig

        _check_teacher_labels(int(AutoConfig.from_pretrained(teacher).num_labels), k)
    seed_everything(args.seed)
    with quiet_third_party():
        teacher_model, teacher_tok = load_model(teacher, task="sequence-classification")
        _check_teacher_labels(int(teacher_model.config.num_labels), k)
        student_model, student_tok = load_model(
            student, task="sequence-classification", num_labels=k
        )
    t_train = encode(teacher_tok, train.texts, train.labels, max_length)
    s_train = encode(student_tok, train.texts, train.labels, max_length)
    s_val = encode(student_tok, val.texts, val.labels, max_length)
    logits = None
    if method != "finetune":
        teacher_model.eval()
        logits = cached_teacher_logits(teacher_model, t_train, out / "teacher_logits.safetensors")
    result = distill(
        student_model,
        None,
        s_train,
        s_val,
        method=method,
        config=method_cfg,
        train_args=args,
        teacher_logits=logits,
        out_dir=out / "checkpoints",
    )
    save_weights(
        out,
        result.student.state_dict(),
        config={"label_names": train.label_names, **result.student.config.to_dict()},
        name="student",
    )
    summary = {
        "method": method,
        "resumed": resumed,
        "best_epoch": result.best_epoch,
        "metrics": result.metrics,
        "val": evaluate(result.student, s_val),
        "history": result.history,
    }
    atomic_write_json(out / "history.json", summary)
    atomic_write_json(
        out / "config.json",
        {"method": method, "config": method_cfg.to_dict(), "args": args.to_dict()},
    )
    return summary
