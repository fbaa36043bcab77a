"""What the CLI's ``train``, ``eval`` and ``export`` do, as plain functions.

A training run folder holds ``adapter/`` (the DyLoRA adapter), ``run_config.json`` (the
model, data and training options) and ``metrics.json``. ``eval`` and ``export`` accept
that folder or an adapter folder directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from papershelf.errors import UserError
from papershelf.io import atomic_write_json

from dylora.config import DyLoRAConfig, RunOptions

__all__ = [
    "RunOptions",
    "check_saved_ranks",
    "eval_run",
    "export_run",
    "resolve_run_dir",
    "train_run",
]

RUN_CONFIG = "run_config.json"
ADAPTER_SUBDIR = "adapter"
EXPORT_FORMATS = ("peft", "merged")


def _load_data(opts: RunOptions, split: str, tokenizer: Any, label_names: list[str] | None = None):
    from papershelf.data import read_text_classification, synthetic_text_classification

    path = opts.train_file if split == "train" else opts.eval_file
    if path is not None:
        return read_text_classification(path, opts.text_field, opts.label_field, label_names)
    if opts.train_file is not None and split == "eval":
        raise UserError("eval: a model trained on --train data needs --eval data to evaluate")
    task = synthetic_text_classification(
        tokenizer,
        num_classes=opts.num_classes,
        n_train=2000,
        n_test=400,
        seed=opts.seed,
    )
    return task.train if split == "train" else task.test


def _tokenizer(model: str):
    """The tokenizer ``load_model(model)`` will use, with its one-line error when missing."""
    from papershelf.models import OFFLINE_ALIASES, OFFLINE_HINT, TINY_MODELS, offline_encoder_path
    from transformers import AutoTokenizer

    if model in OFFLINE_ALIASES or model in TINY_MODELS:
        return AutoTokenizer.from_pretrained(offline_encoder_path())
    try:
        return AutoTokenizer.from_pretrained(model)
    except OSError as exc:  # a missing folder or an unreachable hub name
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"model: cannot load {model!r} ({reason[:160]}); {OFFLINE_HINT}") from None


def _encode(tokenizer: Any, data: Any, max_length: int) -> dict[str, Any]:
    """``{"input_ids", "attention_mask": (n, max_length), "labels": (n,)}``."""
    from papershelf.text_classification import encode

    return encode(tokenizer, data.texts, data.labels, max_length, padding="max_length")


def train_run(out: Path, config: DyLoRAConfig, opts: RunOptions) -> dict[str, Any]:
    """Train a DyLoRA adapter with ``papershelf.train.fit`` (one b per training step, drawn by
    :class:`dylora.sampling.RankHook`; checkpoints in ``out/checkpoints``, resumed if present)."""
    from papershelf.models import load_model
    from papershelf.text_classification import classification_loss, evaluate
    from papershelf.train import TrainConfig, fit

    from dylora.model import get_dylora_model
    from dylora.sampling import RankHook

    out = Path(out)
    tokenizer = _tokenizer(opts.model)
    train_data = _load_data(opts, "train", tokenizer)
    opts.label_names = list(train_data.label_names)
    opts.num_classes = len(opts.label_names)
    eval_data = (
        _load_data(opts, "eval", tokenizer, opts.label_names)
        if (opts.eval_file or not opts.train_file)
        else None
    )
    base, _ = load_model(opts.model, task="sequence-classification", num_labels=opts.num_classes)
    if config.modules_to_save is None and hasattr(base, "classifier"):
        config.modules_to_save = ["classifier"]
    model = get_dylora_model(base, config)
    batch = _encode(tokenizer, train_data, opts.max_length)
    dataset = [{k: v[i] for k, v in batch.items()} for i in range(len(batch["labels"]))]
    train_cfg = TrainConfig(
        max_steps=opts.steps,
        lr=opts.lr,
        batch_size=opts.batch_size,
        seed=opts.seed,
        out_dir=out / "checkpoints",
    )
    atomic_write_json(
        out / RUN_CONFIG,
        {
            "run": opts.to_dict(),
            "dylora": config.to_dict(),
            "train": train_cfg.to_dict(),
        },
    )
    state = fit(model, dataset, classification_loss, train_cfg, hooks=[RankHook(model)])
    model.save_pretrained(out / ADAPTER_SUBDIR)
    metrics: dict[str, Any] = {
        "steps": state.step,
        "final_loss": state.losses[-1] if state.losses else None,
    }
    if eval_data is not None:
        metrics["eval_rank"] = config.resolved_eval_rank
        metrics["eval"] = evaluate(model, _encode(tokenizer, eval_data, opts.max_length))
    atomic_write_json(out / "metrics.json", metrics)
    model.print_trainable_parameters()
    return metrics


def resolve_run_dir(path: str | Path) -> tuple[Path, dict[str, Any] | None]:
    """``(adapter dir, run config or None)`` for a training run folder or an adapter folder."""
    path = Path(path)
    if (path / "adapter_config.json").is_file():
        adapter_dir, run_cfg = path, path.parent / RUN_CONFIG
    elif (path / ADAPTER_SUBDIR / "adapter_config.json").is_file():
        adapter_dir, run_cfg = path / ADAPTER_SUBDIR, path / RUN_CONFIG
    else:
        raise UserError(
            f"DIR: {str(path)!r} is neither a dylora train folder (with adapter/) nor an adapter "
            "folder (with adapter_config.json)"
        )
    return adapter_dir, (json.loads(run_cfg.read_text()) if run_cfg.is_file() else None)


def check_saved_ranks(path: str | Path, ranks: list[int], field: str) -> None:
    """Refuse ranks outside the saved adapter's [r_min, r_max] before loading any model."""
    from dylora.model import DyLoRAModel

    adapter_dir, _ = resolve_run_dir(path)
    config = DyLoRAModel.config_from_pretrained(adapter_dir)
    for b in ranks:
        config.check_rank(b, field)


def _load_trained(path: str | Path, model_name: str | None):
    from papershelf.models import load_model

    from dylora.model import DyLoRAModel

    adapter_dir, run_cfg = resolve_run_dir(path)
    opts = RunOptions.from_dict(run_cfg["run"]) if run_cfg else RunOptions()
    if model_name is not None:
        opts.model = model_name
    elif run_cfg is None:
        raise UserError(f"--model: {str(path)!r} has no {RUN_CONFIG}; name the base model")
    num_labels = len(opts.label_names) if opts.label_names else opts.num_classes
    base, tokenizer = load_model(opts.model, task="sequence-classification", num_labels=num_labels)
    model = DyLoRAModel.from_pretrained(base, adapter_dir)
    return model, tokenizer, opts, adapter_dir


def eval_run(
    path: str | Path,
    ranks_spec: str,
    *,
    eval_file: str | None = None,
    model_name: str | None = None,
    tolerance: float = 0.5,
    out: Path | None = None,
) -> dict[str, Any]:
    """Evaluate a trained adapter at each rank; write ``ranks.json`` and a metric-vs-rank PNG."""
    from papershelf.text_classification import evaluate

    from dylora.config import parse_ranks
    from dylora.model import evaluate_ranks
    from dylora.plots import plot_rank_curves

    ranks = parse_ranks(ranks_spec)
    check_saved_ranks(path, ranks, "--ranks")
    model, tokenizer, opts, adapter_dir = _load_trained(path, model_name)
    if eval_file is not None:
        opts.eval_file = eval_file
    data = _encode(
        tokenizer, _load_data(opts, "eval", tokenizer, opts.label_names), opts.max_length
    )
    table = evaluate_ranks(model, lambda m: evaluate(m, data), ranks)
    layers = model.dylora_layers.values()
    for b, row in table.items():
        row["adapter_params"] = sum(
            b * (layer.in_features + layer.out_features) for layer in layers
        )
    best = max(ranks, key=lambda b: (table[b]["accuracy"], -b))
    smallest = min(
        b for b in ranks if table[b]["accuracy"] >= table[best]["accuracy"] - tolerance / 100
    )
    out = Path(out) if out is not None else adapter_dir.parent
    doc = {
        "ranks": {str(b): v for b, v in table.items()},
        "best_rank": best,
        "smallest_rank_within_tolerance": smallest,
        "tolerance_points": tolerance,
        "eval_data": opts.eval_file or "synthetic test split",
    }
    atomic_write_json(out / "ranks.json", doc)
    doc["plot"] = str(
        out
        / plot_rank_curves(
            out / "accuracy_vs_rank.png",
            {"DyLoRA": {b: table[b]["accuracy"] for b in ranks}},
            "accuracy",
            "accuracy vs rank",
        )
    )
    return doc


def export_run(
    path: str | Path, rank: int, out: Path, fmt: str = "peft", model_name: str | None = None
) -> Path:
    """Export the rank-b slice as a PEFT LoRA dir (``peft``) or a merged full model (``merged``)."""
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"--format: must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    check_saved_ranks(path, [rank], "--rank")
    model, tokenizer, _, _ = _load_trained(path, model_name)
    if fmt == "peft":
        return model.export_peft(out, rank=rank)
    merged = model.merge_and_unload(rank=rank)
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return Path(out)
