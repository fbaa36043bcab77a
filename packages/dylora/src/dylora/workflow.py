"""What the CLI's ``train``, ``eval`` and ``export`` do, as plain functions.

A training run folder holds ``adapter/`` (the DyLoRA adapter), ``run_config.json`` (the
model, data and training options), ``metrics.json``, ``run_fingerprint.json`` (what made
the folder: a rerun continues only when it matches, see
:func:`papershelf.run_folder.prepare_run_folder`), ``checkpoints/`` (periodic, resumable)
and, when the base model was randomly initialised (``tiny-encoder``), ``base/``: that
base, so that ``eval`` and ``export`` see the model that was trained. ``eval`` and
``export`` accept that folder or an adapter folder directly.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from papershelf.data import check_utf8
from papershelf.errors import RunFailed, UserError
from papershelf.io import atomic_write_json

from dylora.config import DyLoRAConfig, RunOptions

__all__ = [
    "RunOptions",
    "check_saved_ranks",
    "check_utf8",
    "eval_run",
    "export_run",
    "resolve_run_dir",
    "train_run",
]

RUN_CONFIG = "run_config.json"
ADAPTER_SUBDIR = "adapter"
BASE_SUBDIR = "base"
EXPORT_FORMATS = ("peft", "merged")


def _check_model_name(model: str) -> None:
    """A local-looking model path that does not exist: one line with the offline options."""
    from papershelf.models import check_model_name

    check_model_name(model, field="--model")


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
    _check_model_name(model)
    try:
        return AutoTokenizer.from_pretrained(model)
    except OSError as exc:  # a missing folder or an unreachable hub name
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"model: cannot load {model!r} ({reason[:160]}); {OFFLINE_HINT}") from None


def _encode(tokenizer: Any, data: Any, max_length: int) -> dict[str, Any]:
    """``{"input_ids", "attention_mask": (n, max_length), "labels": (n,)}``."""
    from papershelf.text_classification import encode

    return encode(tokenizer, data.texts, data.labels, max_length, padding="max_length")


def _check_r_max(base: Any, config: DyLoRAConfig) -> None:
    """Refuse ``r_max`` above the narrowest target layer's ``min(in, out)``: a larger rank
    adds parameters (and memory) without adding rank."""
    from papershelf.adapters import resolve_target_modules

    names = resolve_target_modules(
        base, config.target_modules, config.exclude_modules, config.modules_to_save
    )
    widths = {}
    for name in names:
        layer = base.get_submodule(name)
        weight = getattr(layer, "weight", None)
        if weight is not None and weight.dim() == 2:
            widths[name] = min(weight.shape)
    if widths:
        name = min(widths, key=widths.get)
        if config.r_max > widths[name]:
            raise UserError(
                f"r_max: must be <= {widths[name]}, the smaller dimension of target {name!r} "
                f"(a larger rank adds parameters without adding rank), got {config.r_max}"
            )


def _save_random_base(base: Any, tokenizer: Any, out: Path) -> None:
    """Write a randomly initialised base (``save_pretrained`` + tokenizer) to ``out/base``,
    atomically: a temporary folder renamed into place."""
    tmp = out / f".tmp-{BASE_SUBDIR}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    base.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out / BASE_SUBDIR, ignore_errors=True)
    os.replace(tmp, out / BASE_SUBDIR)


def train_run(
    out: Path,
    config: DyLoRAConfig,
    opts: RunOptions,
    *,
    overwrite: bool = False,
    resume: bool = False,
    hooks: Sequence[Any] = (),
) -> dict[str, Any]:
    """Train a DyLoRA adapter with ``papershelf.train.fit`` (one b per training step, drawn by
    :class:`dylora.sampling.RankHook`).

    Everything is seeded from ``opts.seed`` before anything is built, so the same call
    writes the same files. ``out`` is a run folder (``prepare_run_folder``): a folder made
    with other arguments or data is refused unless ``overwrite`` (start over) or ``resume``
    (continue anyway); a matching one continues from its newest checkpoint (written every
    ``opts.checkpoint_every`` steps to ``out/checkpoints``). ``hooks`` are extra
    :class:`papershelf.train.Hook` s run after the rank hook.
    """
    from papershelf.models import TINY_MODELS, load_model
    from papershelf.run_folder import check_writable_folder, prepare_run_folder
    from papershelf.seeding import seed_everything
    from papershelf.text_classification import classification_loss, evaluate
    from papershelf.train import TrainConfig, TrainingDiverged, fit, latest_checkpoint

    from dylora.model import get_dylora_model
    from dylora.sampling import RankHook

    out = Path(out)
    check_writable_folder(out, "--out")
    _check_model_name(opts.model)
    for path in (opts.train_file, opts.eval_file):
        if path is not None and not Path(path).is_file():
            raise UserError(f"data: file {str(path)!r} does not exist")
        check_utf8(path)
    arguments = {f"run.{k}": v for k, v in opts.to_dict().items() if k != "checkpoint_every"}
    arguments.update({f"dylora.{k}": v for k, v in config.to_dict().items()})
    prepare_run_folder(
        out,
        arguments,
        files=[opts.train_file, opts.eval_file],
        overwrite=overwrite,
        resume=resume,
    )
    seed_everything(opts.seed)
    tokenizer = _tokenizer(opts.model)
    train_data = _load_data(opts, "train", tokenizer)
    if opts.batch_size > len(train_data):
        raise UserError(
            f"batch_size: must be <= the {len(train_data)} training texts, got {opts.batch_size}"
        )
    opts.label_names = list(train_data.label_names)
    opts.num_classes = len(opts.label_names)
    eval_data = (
        _load_data(opts, "eval", tokenizer, opts.label_names)
        if (opts.eval_file or not opts.train_file)
        else None
    )
    seed_everything(opts.seed)  # the model's initialisation does not depend on the data read
    base, _ = load_model(opts.model, task="sequence-classification", num_labels=opts.num_classes)
    if config.modules_to_save is None and hasattr(base, "classifier"):
        config.modules_to_save = ["classifier"]
    _check_r_max(base, config)
    random_base = opts.model in TINY_MODELS
    if random_base:
        _save_random_base(base, tokenizer, out)
    model = get_dylora_model(base, config)
    batch = _encode(tokenizer, train_data, opts.max_length)
    dataset = [{k: v[i] for k, v in batch.items()} for i in range(len(batch["labels"]))]
    train_cfg = TrainConfig(
        max_steps=opts.steps,
        lr=opts.lr,
        batch_size=opts.batch_size,
        seed=opts.seed,
        checkpoint_every=opts.checkpoint_every,
        out_dir=out / "checkpoints",
    )
    atomic_write_json(
        out / RUN_CONFIG,
        {
            "run": opts.to_dict(),
            "dylora": config.to_dict(),
            "train": train_cfg.to_dict(),
            "base_dir": BASE_SUBDIR if random_base else None,
        },
    )
    try:
        state = fit(model, dataset, classification_loss, train_cfg, hooks=[RankHook(model), *hooks])
    except TrainingDiverged as exc:
        if latest_checkpoint(out / "checkpoints") is not None:
            raise
        first = str(exc).split("; the last checkpoint")[0]
        raise RunFailed(
            f"{first}; no checkpoint was written yet (lower --lr, then rerun with --overwrite)"
        ) from None
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
    from papershelf.models import TINY_MODELS, load_model

    from dylora.model import DyLoRAModel

    adapter_dir, run_cfg = resolve_run_dir(path)
    opts = RunOptions.from_dict(run_cfg["run"]) if run_cfg else RunOptions()
    if model_name is not None:
        opts.model = model_name
    elif run_cfg is None:
        raise UserError(f"--model: {str(path)!r} has no {RUN_CONFIG}; name the base model")
    source = opts.model
    if run_cfg is not None and model_name is None and run_cfg.get("base_dir"):
        source = str(adapter_dir.parent / run_cfg["base_dir"])  # the random base that was trained
        if not Path(source).is_dir():
            raise UserError(f"DIR: {source} (the run's randomly initialised base) is missing")
    elif opts.model in TINY_MODELS:
        raise UserError(
            f"--model: {opts.model!r} is a randomly initialised model, so a new copy is not the "
            "base that was trained; pass the `dylora train` folder (it holds base/)"
        )
    _check_model_name(source)
    num_labels = len(opts.label_names) if opts.label_names else opts.num_classes
    base, tokenizer = load_model(source, task="sequence-classification", num_labels=num_labels)
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
    from papershelf.run_folder import check_writable_folder
    from papershelf.text_classification import evaluate

    from dylora.config import parse_ranks
    from dylora.model import evaluate_ranks
    from dylora.plots import plot_rank_curves

    ranks = parse_ranks(ranks_spec)
    if out is not None:
        check_writable_folder(Path(out), "--out")
    if eval_file is not None:
        if not Path(eval_file).is_file():
            raise UserError(f"--eval: file {str(eval_file)!r} does not exist")
        check_utf8(eval_file)
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
    out.mkdir(parents=True, exist_ok=True)
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
    from papershelf.run_folder import check_writable_folder

    check_writable_folder(Path(out), "--out")
    check_saved_ranks(path, [rank], "--rank")
    model, tokenizer, _, _ = _load_trained(path, model_name)
    if fmt == "peft":
        return model.export_peft(out, rank=rank)
    merged = model.merge_and_unload(rank=rank)
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return Path(out)
