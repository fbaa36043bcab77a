"""What the ``krona`` commands do, as plain functions (``cli.py`` only parses).

- :func:`train_adapter`: ``krona train``, KronA adapters and a mean-pooled head trained with
  ``papershelf.train.fit`` (periodic checkpoints, exact resume), evaluated, saved with
  ``krona_train.json``. Everything is seeded from the training seed before it is built; the
  ``--out`` folder is a run folder (``papershelf.run_folder.prepare_run_folder``: a rerun
  with other arguments or data is refused unless ``overwrite``/``resume``); a randomly
  initialised base (``tiny-encoder``) is saved in ``base/`` so that eval, merge and export
  see the model that was trained.
- :func:`evaluate_trained`: ``krona eval``, accuracy and NLL of a trained folder.
- :func:`merge_trained`: ``krona merge``, a plain encoder + head (variant ``linear`` only).
- :func:`export_trained`: ``krona export``, a PEFT LoKr adapter.
- :func:`shape_rows`: ``krona shapes``, the factor shapes and costs per target module.
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
from papershelf.models import load_model
from papershelf.text_classification import classification_loss, encode, evaluate
from papershelf.train import TrainConfig, fit

from krona.classifier import MeanPoolClassifier
from krona.config import KronAConfig
from krona.model import KronAModel, get_krona_model

__all__ = [
    "EXPORT_FORMATS",
    "TRAIN_META",
    "check_utf8",
    "evaluate_trained",
    "export_trained",
    "load_data",
    "load_trained",
    "merge_trained",
    "shape_rows",
    "synthetic_task",
    "train_adapter",
]

TRAIN_META = "krona_train.json"
BASE_SUBDIR = "base"
EXPORT_FORMATS = ("peft-lokr",)
MAX_LENGTH = 64


def synthetic_task(tok: Any, num_classes: int, seed: int) -> Any:
    """The synthetic topic task; ``krona eval`` rebuilds ``krona train``'s test split from it."""
    from papershelf.data import synthetic_text_classification

    return synthetic_text_classification(
        tok, num_classes=num_classes, n_train=512, n_test=400, seed=seed
    )


def _check_inputs(model: str, *files: Path | None) -> None:
    """Before any work: a local-looking model path exists; data files exist and are UTF-8."""
    from papershelf.models import check_model_name

    check_model_name(model, field="--model")
    for path in files:
        if path is not None and not Path(path).is_file():
            raise UserError(f"data: file {str(path)!r} does not exist")
        check_utf8(path)


def load_data(train: Path | None, eval_: Path | None, tok: Any, seed: int) -> tuple[Any, Any]:
    """``(train split, eval split)`` from two JSONL/CSV files, or the synthetic task."""
    from papershelf.data import read_text_classification

    if (train is None) != (eval_ is None):
        raise UserError("--train/--eval: give both --train and --eval, or neither (synthetic task)")
    check_utf8(train)
    check_utf8(eval_)
    if train is None:
        task = synthetic_task(tok, 4, seed)
        return task.train, task.test
    tr = read_text_classification(train)
    return tr, read_text_classification(eval_, label_names=tr.label_names)


def train_adapter(
    out: Path,
    adapter_config: KronAConfig,
    train_config: TrainConfig,
    *,
    model: str = "offline",
    train_file: Path | None = None,
    eval_file: Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    hooks: Sequence[Any] = (),
) -> dict[str, Any]:
    """Fine-tune KronA adapters (and a mean-pooled classifier head) on a text-classification
    task with ``papershelf.train.fit``; save the adapter and ``krona_train.json`` in ``out``.

    ``train_config.out_dir`` (checkpoints) defaults to ``out/checkpoints``. A folder made
    with other arguments or data is refused unless ``overwrite`` or ``resume``; a matching
    one continues from its newest checkpoint. ``hooks``: extra ``papershelf.train.Hook`` s.

    Returns the record written to ``krona_train.json`` (``eval`` holds accuracy and NLL).
    """
    from papershelf.models import TINY_MODELS
    from papershelf.run_folder import check_writable_folder, prepare_run_folder
    from papershelf.seeding import seed_everything
    from papershelf.train import TrainingDiverged, latest_checkpoint

    out = Path(out)
    check_writable_folder(out, "--out")
    _check_inputs(model, train_file, eval_file)
    if (train_file is None) != (eval_file is None):
        raise UserError("--train/--eval: give both --train and --eval, or neither (synthetic task)")
    if train_config.out_dir is None:
        train_config.out_dir = out / "checkpoints"
    arguments = {"model": model, "train_file": train_file, "eval_file": eval_file}
    arguments.update({f"krona.{k}": v for k, v in adapter_config.to_dict().items()})
    arguments.update(
        {
            f"train.{k}": v
            for k, v in train_config.to_dict().items()
            if k not in ("checkpoint_every", "out_dir")
        }
    )
    prepare_run_folder(
        out, arguments, files=[train_file, eval_file], overwrite=overwrite, resume=resume
    )
    seed = train_config.seed
    seed_everything(seed)
    encoder, tok = load_model(model)
    tr, ev = load_data(train_file, eval_file, tok, seed)
    if train_config.batch_size > len(tr):
        raise UserError(
            f"batch_size: must be <= the {len(tr)} training texts, got {train_config.batch_size}"
        )
    random_base = model in TINY_MODELS
    if random_base:
        tmp = out / f".tmp-{BASE_SUBDIR}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        encoder.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        shutil.rmtree(out / BASE_SUBDIR, ignore_errors=True)
        os.replace(tmp, out / BASE_SUBDIR)
    seed_everything(seed)
    net = MeanPoolClassifier(encoder, len(tr.label_names))
    km = get_krona_model(net, adapter_config)
    km.print_trainable_parameters()
    data = encode(tok, tr.texts, tr.labels, max_length=MAX_LENGTH)
    try:
        state = fit(km, data, classification_loss, train_config, hooks=list(hooks))
    except TrainingDiverged as exc:
        if latest_checkpoint(train_config.out_dir) is not None:
            raise
        first = str(exc).split("; the last checkpoint")[0]
        raise RunFailed(
            f"{first}; no checkpoint was written yet (lower --lr, then rerun with --overwrite)"
        ) from None
    km.save_pretrained(out)
    metrics = evaluate(km, encode(tok, ev.texts, ev.labels, max_length=MAX_LENGTH))
    record = {
        "model": model,
        "base_dir": BASE_SUBDIR if random_base else None,
        "label_names": tr.label_names,
        "steps": state.step,
        "lr": train_config.lr,
        "batch_size": train_config.batch_size,
        "seed": seed,
        "final_loss": state.losses[-1] if state.losses else None,
        "eval": metrics,
    }
    atomic_write_json(out / TRAIN_META, record)
    return record


def load_trained(folder: Path) -> tuple[KronAModel, Any, dict[str, Any]]:
    """``(model, tokenizer, krona_train.json record)`` of a ``krona train`` folder; a
    randomly initialised base is read from the folder's ``base/``."""
    from papershelf.models import TINY_MODELS

    meta_path = folder / TRAIN_META
    if not meta_path.is_file():
        raise UserError(
            f"folder: {folder} has no {TRAIN_META}; it was not written by `krona train`"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    source = meta["model"]
    if meta.get("base_dir"):
        source = str(folder / meta["base_dir"])
        if not Path(source).is_dir():
            raise UserError(f"folder: {source} (the run's randomly initialised base) is missing")
    elif source in TINY_MODELS:
        raise UserError(
            f"folder: {folder} was trained on a random {source!r} base that it did not save; "
            "retrain it with this version (which saves base/)"
        )
    KronAModel.config_from_pretrained(folder)  # unknown keys, bad values: before any loading
    encoder, tok = load_model(source)
    net = MeanPoolClassifier(encoder, len(meta["label_names"]))
    return KronAModel.from_pretrained(net, folder), tok, meta


def evaluate_trained(
    folder: Path, eval_file: Path | None = None, seed: int | None = None
) -> tuple[dict[str, float], int]:
    """Accuracy and NLL of a trained adapter on ``eval_file`` (default: the synthetic test
    split of ``seed``, itself defaulting to the training seed); also the number of examples."""
    from papershelf.data import read_text_classification

    _check_inputs("offline", eval_file)
    km, tok, meta = load_trained(folder)
    if eval_file is None:
        seed = meta["seed"] if seed is None else seed
        ev = synthetic_task(tok, len(meta["label_names"]), seed).test
    else:
        ev = read_text_classification(eval_file, label_names=meta["label_names"])
    return evaluate(km, encode(tok, ev.texts, ev.labels, max_length=MAX_LENGTH)), len(ev)


def merge_trained(folder: Path, out: Path) -> Path:
    """Merge ``W <- W0 + s·kron(A, B)`` and write ``out/encoder`` (``save_pretrained``, with
    the tokenizer) and ``out/classifier.safetensors``; block variants are refused."""
    from papershelf.checkpoint import save_weights
    from papershelf.run_folder import check_writable_folder

    check_writable_folder(Path(out), "--out")
    km, tok, meta = load_trained(folder)
    net = km.merge_and_unload()
    net.encoder.save_pretrained(out / "encoder")
    tok.save_pretrained(out / "encoder")
    save_weights(
        out, net.classifier.state_dict(), {"label_names": meta["label_names"]}, name="classifier"
    )
    return out


def export_trained(folder: Path, out: Path, format: str = "peft-lokr") -> Path:
    """Export a trained adapter as a PEFT LoKr adapter (needs peft)."""
    if format not in EXPORT_FORMATS:
        raise UserError(f"--format: {format!r} is not supported; use 'peft-lokr'")
    from papershelf.run_folder import check_writable_folder

    check_writable_folder(Path(out), "--out")
    km, _, _ = load_trained(folder)
    return km.export_peft(out)


def shape_rows(
    model: str = "offline", target_modules: list[str] | None = None, factor: int = -1
) -> list[str]:
    """One line per target: ``(d_out, d_in)``, the chosen A and B, params, the LoRA rank of
    an equal budget, and MACs per token of each product order."""
    from papershelf.adapters import resolve_target_modules

    from krona.functional import lora_rank_for_budget, num_params, order_costs

    net, _ = load_model(model)
    cfg = KronAConfig(target_modules=target_modules or ["query", "value"], factor=factor)
    rows = []
    for name in resolve_target_modules(net, cfg.target_modules):
        lin = net.get_submodule(name)
        s = cfg.shapes_for(name, lin.out_features, lin.in_features)
        n = num_params(s)
        c = order_costs(s)
        rows.append(
            f"{name}: ({lin.out_features}, {lin.in_features})  A={s[0][0]}x{s[0][1]} B={s[1][0]}x{s[1][1]}  "
            f"params {n}  LoRA r={lora_rank_for_budget(lin.out_features, lin.in_features, n)}  "
            f"MACs/token A_first {c['A_first']} B_first {c['B_first']} dense {lin.out_features * lin.in_features}"
        )
    return rows
