"""What the CLI's ``train``, ``evaluate`` and ``generate`` do, as plain functions.

A checkpoint folder (``dyngraph train --out``) holds ``model.safetensors`` and
``model_config.json``: the :class:`~dyngraph_survey_models.config.ModelConfig` fields at the
top level (``model``, ``num_nodes``, ``msg_dim``, ``bipartite``), the training options under
``"train"`` (with the split ``protocol``), and the run's losses, validation metrics and split.
Nothing heavy is imported at module level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from papershelf.config import check_choice
from papershelf.errors import UserError

from dyngraph_survey_models.config import NEGATIVES, SPLIT_PROTOCOLS, ModelConfig, TrainConfig
from dyngraph_survey_models.registry import CT_MODELS

FORMATS = ("auto", "csv", "jodie", "dyglib", "tgb")  # = data.FORMATS (kept light: no torch)

__all__ = ["GENERATORS", "evaluate_run", "generate_data", "train_run"]

GENERATORS = ("drifting", "stationary", "periodic-tkg")


def _quiet() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")


def _check_out_dir(out: Path) -> None:
    """Refuse an output folder that is a file or cannot be written, before any training."""
    import os

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"out: {out} is a file; give a folder for the checkpoint")
    parent = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if not parent.is_dir():
        raise UserError(f"out: {parent} is a file; give a folder for the checkpoint")
    if not os.access(parent, os.W_OK):
        raise UserError(f"out: {parent} is not writable")


def train_run(
    data: Path,
    out: Path,
    *,
    model: str = "tgn",
    config: TrainConfig | None = None,
    protocol: str = "tgn",
    sort: bool = False,
    bipartite: bool = False,
    format: str = "auto",
):
    """Train ``model`` on the chronological train split of the events in ``data``, save a
    checkpoint in ``out`` and return the validation :class:`~dyngraph_survey_models.protocol.Metrics`."""
    check_choice("model", model, CT_MODELS)
    check_choice("protocol", protocol, SPLIT_PROTOCOLS)
    check_choice("format", format, FORMATS)
    config = config or TrainConfig()
    _check_out_dir(out)
    _quiet()
    import torch
    from papershelf.checkpoint import save_weights

    from dyngraph_survey_models.data import read_events
    from dyngraph_survey_models.protocol import evaluate, train_model
    from dyngraph_survey_models.registry import build_model
    from dyngraph_survey_models.splits import chronological_split

    stream = read_events(data, format, sort=sort, bipartite=bipartite or None)
    splits = chronological_split(stream, protocol=protocol)
    model_config = ModelConfig(
        model=model, num_nodes=stream.num_nodes, msg_dim=stream.msg_dim, bipartite=stream.bipartite
    )
    torch.manual_seed(config.seed)
    net = build_model(model_config.model, model_config.num_nodes, model_config.msg_dim)
    hist = train_model(net, splits, config)
    k_val = max(1, min(20, stream.dst_candidates().numel() - 1))  # small files: fewer negatives
    val = evaluate(net, splits, "val", k=k_val, batch_size=config.batch_size)
    record: dict[str, Any] = {
        **model_config.to_dict(),
        "train": {
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "lr": config.lr,
            "seed": config.seed,
            "protocol": protocol,
        },
        "data": str(data),
        "format": format,
        "losses": hist.losses,
        "train_events_per_s": hist.events_per_s,
        "val": val.as_dict(),
        "split": {k: v for k, v in splits.summary().items() if k != "new_nodes"},
        "new_nodes": splits.new_nodes.tolist(),
    }
    Path(out).mkdir(parents=True, exist_ok=True)
    save_weights(out, net.state_dict(), record)
    return val


def evaluate_run(
    checkpoint: Path,
    data: Path,
    *,
    negatives: str = "random",
    split: str = "test",
    k: int = 20,
    inductive: bool = False,
    sort: bool = False,
    format: str | None = None,
):
    """Evaluate a checkpoint written by :func:`train_run` on the ``split`` part of ``data``
    (the same event file it was trained on); returns the
    :class:`~dyngraph_survey_models.protocol.Metrics`."""
    check_choice("negatives", negatives, NEGATIVES)
    check_choice("split", split, ("val", "test"))
    if format is not None:
        check_choice("format", format, FORMATS)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise UserError(f"k: must be an integer >= 1 (negatives per positive), got {k}")
    if not Path(checkpoint).is_dir():
        raise UserError(f"checkpoint: {checkpoint} is not a folder written by `dyngraph train`")
    _quiet()
    from papershelf.checkpoint import load_config, load_weights

    from dyngraph_survey_models.data import read_events
    from dyngraph_survey_models.protocol import evaluate
    from dyngraph_survey_models.registry import build_model
    from dyngraph_survey_models.splits import chronological_split

    record = load_config(checkpoint)
    if not record or "model" not in record:
        raise UserError(f"checkpoint: {checkpoint} has no model_config.json from `dyngraph train`")
    model_config = ModelConfig.from_dict(
        {k: record[k] for k in ("model", "num_nodes", "msg_dim", "bipartite") if k in record}
    )
    stream = read_events(
        data,
        format or record.get("format", "auto"),
        sort=sort,
        num_nodes=model_config.num_nodes,
        bipartite=record.get("bipartite"),
    )
    if stream.msg_dim != model_config.msg_dim:
        raise UserError(
            f"data: {data} has {stream.msg_dim} edge features; the checkpoint expects {model_config.msg_dim}"
        )
    splits = chronological_split(stream, protocol=record["train"]["protocol"])
    net = build_model(model_config.model, model_config.num_nodes, model_config.msg_dim)
    state, _ = load_weights(checkpoint, expected_keys=net.state_dict().keys())
    net.load_state_dict(state)
    return evaluate(
        net,
        splits,
        split,
        negatives=negatives,
        k=k,
        batch_size=record["train"]["batch_size"],
        inductive=inductive,
    )


def generate_data(kind: str, out: Path, *, events: int = 10_000, seed: int = 0) -> str:
    """Write a seeded synthetic dataset (``kind`` one of :data:`GENERATORS`) to ``out``;
    returns a one-line summary."""
    check_choice("kind", kind, GENERATORS)
    from papershelf.io import atomic_write_text

    from dyngraph_survey_models.data import write_csv
    from dyngraph_survey_models.synthetic import (
        drifting_bipartite,
        periodic_tkg,
        stationary_bipartite,
    )

    if kind == "periodic-tkg":
        tkg = periodic_tkg(seed=seed)
        lines = ["\t".join(map(str, row)) for row in tkg.quads.tolist()]
        atomic_write_text(out, "\n".join(lines) + "\n")
        return f"wrote {len(lines)} quadruples (head, relation, tail, timestamp) to {out}"
    gen = drifting_bipartite if kind == "drifting" else stationary_bipartite
    stream = gen(num_events=events, seed=seed)
    write_csv(stream, out)
    return f"wrote {len(stream)} events over {stream.num_nodes} nodes to {out}"
