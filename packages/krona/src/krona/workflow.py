"""What the ``krona`` commands do, as plain functions (``cli.py`` only parses).

- :func:`train_adapter`: ``krona train``, KronA adapters and a mean-pooled head trained with
  ``papershelf.train.fit`` (checkpoints, resume), evaluated, saved with ``krona_train.json``.
- :func:`evaluate_trained`: ``krona eval``, accuracy and NLL of a trained folder.
- :func:`merge_trained`: ``krona merge``, a plain encoder + head (variant ``linear`` only).
- :func:`export_trained`: ``krona export``, a PEFT LoKr adapter.
- :func:`shape_rows`: ``krona shapes``, the factor shapes and costs per target module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from papershelf.errors import UserError
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
EXPORT_FORMATS = ("peft-lokr",)
MAX_LENGTH = 64


def synthetic_task(tok: Any, num_classes: int, seed: int) -> Any:
    """The synthetic topic task; ``krona eval`` rebuilds ``krona train``'s test split from it."""
    from papershelf.data import synthetic_text_classification

    return synthetic_text_classification(
        tok, num_classes=num_classes, n_train=512, n_test=400, seed=seed
    )


def load_data(train: Path | None, eval_: Path | None, tok: Any, seed: int) -> tuple[Any, Any]:
    """``(train split, eval split)`` from two JSONL/CSV files, or the synthetic task."""
    from papershelf.data import read_text_classification

    if (train is None) != (eval_ is None):
        raise UserError("--train/--eval: give both --train and --eval, or neither (synthetic task)")
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
) -> dict[str, Any]:
    """Fine-tune KronA adapters (and a mean-pooled classifier head) on a text-classification
    task with ``papershelf.train.fit``; save the adapter and ``krona_train.json`` in ``out``.

    Returns the record written to ``krona_train.json`` (``eval`` holds accuracy and NLL).
    """
    seed = train_config.seed
    # random-weight models (tiny-encoder) are rebuilt identically by eval/merge
    torch.manual_seed(seed)
    encoder, tok = load_model(model)
    tr, ev = load_data(train_file, eval_file, tok, seed)
    torch.manual_seed(seed)
    net = MeanPoolClassifier(encoder, len(tr.label_names))
    km = get_krona_model(net, adapter_config)
    km.print_trainable_parameters()
    data = encode(tok, tr.texts, tr.labels, max_length=MAX_LENGTH)
    state = fit(km, data, classification_loss, train_config)
    km.save_pretrained(out)
    metrics = evaluate(km, encode(tok, ev.texts, ev.labels, max_length=MAX_LENGTH))
    record = {
        "model": model,
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
    """``(model, tokenizer, krona_train.json record)`` of a ``krona train`` folder."""
    meta_path = folder / TRAIN_META
    if not meta_path.is_file():
        raise UserError(
            f"folder: {folder} has no {TRAIN_META}; it was not written by `krona train`"
        )
    meta = json.loads(meta_path.read_text())
    torch.manual_seed(meta["seed"])
    encoder, tok = load_model(meta["model"])
    net = MeanPoolClassifier(encoder, len(meta["label_names"]))
    return KronAModel.from_pretrained(net, folder), tok, meta


def evaluate_trained(
    folder: Path, eval_file: Path | None = None, seed: int | None = None
) -> tuple[dict[str, float], int]:
    """Accuracy and NLL of a trained adapter on ``eval_file`` (default: the synthetic test
    split of ``seed``, itself defaulting to the training seed); also the number of examples."""
    from papershelf.data import read_text_classification

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
