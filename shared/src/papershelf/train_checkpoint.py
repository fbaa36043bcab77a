"""Checkpoints of ``papershelf.train.fit``: write, find the newest, load for an exact resume.

Checkpoints live in ``out_dir/checkpoint-<step>/`` and ``out_dir/latest`` names the newest
complete one. A checkpoint is written to a temporary folder and renamed into place, so a
crash mid-write leaves the previous checkpoint intact. It holds the trainable weights and the
buffers, the optimizer state, torch's RNG state and the trainer state (step, losses, evals, config).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from papershelf.errors import UserError
from papershelf.io import atomic_write_json, atomic_write_text

KEEP_CHECKPOINTS = 2


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The newest complete checkpoint folder in ``out_dir``, or ``None``."""
    pointer = Path(out_dir) / "latest"
    if not pointer.is_file():
        return None
    folder = Path(out_dir) / pointer.read_text().strip()
    if not (folder / "trainer_state.json").is_file():
        raise UserError(
            f"checkpoint: {pointer} names {folder.name}, which is incomplete; delete {pointer} to restart"
        )
    return folder


def save_checkpoint(
    out_dir: Path, model: Any, optimizer: Any, step: int, trainer_state: dict[str, Any]
) -> Path:
    """Write model, optimizer, RNG and ``trainer_state`` (JSON) to ``out_dir/checkpoint-<step>``."""
    import torch

    from papershelf.checkpoint import save_weights

    final = out_dir / f"checkpoint-{step}"
    tmp = out_dir / f".tmp-checkpoint-{step}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    # trainable weights and buffers (running statistics, spectral-norm vectors change too)
    keep = {n for n, p in model.named_parameters() if p.requires_grad}
    keep |= {n for n, _ in model.named_buffers()} if keep else set()
    save_weights(
        tmp,
        {k: v for k, v in model.state_dict().items() if k in keep or not keep},
        name="model",
    )
    opt_tensors, opt_meta = _flatten_optimizer(optimizer.state_dict())
    opt_tensors["rng.torch"] = torch.get_rng_state()
    save_weights(tmp, opt_tensors, opt_meta, name="optimizer")
    atomic_write_json(
        tmp / "trainer_state.json",
        {"step": step, **trainer_state},
    )
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    atomic_write_text(out_dir / "latest", final.name + "\n")
    old = sorted(out_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))[
        :-KEEP_CHECKPOINTS
    ]
    for folder in old:
        shutil.rmtree(folder, ignore_errors=True)
    return final


def load_checkpoint(folder: Path, model: Any, optimizer: Any) -> dict[str, Any]:
    """Load weights, optimizer and RNG state from ``folder``; return its trainer state (JSON)."""
    import torch

    from papershelf.checkpoint import load_weights

    weights, _ = load_weights(folder, name="model")
    missing_trainable = {n for n, p in model.named_parameters() if p.requires_grad} - weights.keys()
    if missing_trainable:
        raise UserError(
            f"checkpoint: {folder} lacks trainable parameters {sorted(missing_trainable)[:3]}; wrong out_dir?"
        )
    model.load_state_dict(weights, strict=False)
    opt_tensors, opt_meta = load_weights(folder, name="optimizer")
    torch.set_rng_state(opt_tensors.pop("rng.torch"))
    optimizer.load_state_dict(_unflatten_optimizer(opt_tensors, opt_meta))
    return json.loads((folder / "trainer_state.json").read_text())


def _flatten_optimizer(sd: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split an optimizer state dict into tensors (for safetensors) and JSON metadata."""
    import torch

    tensors: dict[str, Any] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, per_param in sd["state"].items():
        for key, value in per_param.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{idx}.{key}"] = value
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        _, idx, key = name.split(".", 2)
        state.setdefault(int(idx), {})[key] = value
    for idx, values in meta["scalars"].items():
        state.setdefault(int(idx), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}
