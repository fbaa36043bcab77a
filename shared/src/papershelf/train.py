"""One training loop, Hugging Face Accelerate style, with checkpoints and resume.

``fit`` runs unchanged in one process or under ``accelerate launch`` / ``torchrun`` on
many (DDP): the global batch of ``batch_size`` examples is split evenly across processes
and gradients are averaged, so 1 and N processes give the same weights up to float
rounding. The data order is a function of ``(seed, step)`` only, and the checkpoint
holds the model, the optimizer and the RNG state, so a resumed run continues exactly
where the interrupted one stopped.

Checkpoints live in ``out_dir/checkpoint-<step>/`` and ``out_dir/latest`` names the
newest complete one. A checkpoint is written to a temporary folder and renamed into
place, so a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from papershelf.errors import UserError
from papershelf.io import atomic_write_json, atomic_write_text

KEEP_CHECKPOINTS = 2


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""


@dataclass
class TrainConfig:
    """Options of ``fit``; validated on construction.

    Attributes:
        max_steps: optimizer steps to run in total (a resumed run counts from 0).
        batch_size: global batch size (split across processes; divisible by their number).
        checkpoint_every: write a checkpoint every this many steps (0: only at the end).
        out_dir: checkpoint folder; ``None`` disables checkpoints and resume.
        progress: show a progress bar (main process, terminals only).
    """

    max_steps: int
    lr: float = 1e-3
    batch_size: int = 32
    weight_decay: float = 0.0
    max_grad_norm: float | None = None
    checkpoint_every: int = 0
    out_dir: str | Path | None = None
    seed: int = 0
    log_every: int = 10
    progress: bool = True

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise UserError(f"max_steps: must be >= 1, got {self.max_steps}")
        if not self.lr > 0:
            raise UserError(f"lr: must be > 0, got {self.lr}")
        if self.batch_size < 1:
            raise UserError(f"batch_size: must be >= 1, got {self.batch_size}")
        if self.weight_decay < 0:
            raise UserError(f"weight_decay: must be >= 0, got {self.weight_decay}")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise UserError(f"max_grad_norm: must be > 0 or None, got {self.max_grad_norm}")
        if self.checkpoint_every < 0:
            raise UserError(f"checkpoint_every: must be >= 0, got {self.checkpoint_every}")
        if self.checkpoint_every and self.out_dir is None:
            raise UserError("out_dir: checkpoint_every needs an out_dir to write checkpoints into")
        if self.seed < 0:
            raise UserError(f"seed: must be >= 0, got {self.seed}")


@dataclass
class TrainState:
    """What ``fit`` returns: the last step, the loss of every step, and where it resumed."""

    step: int = 0
    losses: list[float] = field(default_factory=list)
    resumed_from: int | None = None


def batch_indices(n: int, batch_size: int, seed: int, step: int) -> list[int]:
    """Dataset indices of global batch ``step``: epochs are seeded permutations of ``n``."""
    import torch

    per_epoch = n // batch_size
    epoch, offset = divmod(step, per_epoch)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    return perm[offset * batch_size : (offset + 1) * batch_size].tolist()


def default_collate(items: Sequence[Any]) -> Any:
    from torch.utils.data import default_collate as collate

    return collate(list(items))


def fit(
    model: Any,
    dataset: Sequence[Any],
    loss_fn: Callable[[Any, Any], Any],
    config: TrainConfig,
    *,
    collate_fn: Callable[[Sequence[Any]], Any] | None = None,
    optimizer: Any = None,
    on_step_start: Callable[[int], None] | None = None,
    accelerator: Any = None,
) -> TrainState:
    """Train ``model`` for ``config.max_steps`` optimizer steps, resuming if a checkpoint exists.

    Args:
        model: a ``torch.nn.Module``; only parameters with ``requires_grad`` are trained.
        dataset: anything with ``len`` and integer indexing.
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``, a mean over the batch.
        optimizer: defaults to AdamW over the trainable parameters.
        on_step_start: called with the step number before each optimizer step's forward.
        accelerator: an ``accelerate.Accelerator``; one with ``split_batches=True`` is made if omitted.

    Raises:
        TrainingDiverged: the loss became NaN/inf (the last checkpoint is kept).
    """
    import torch
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    accelerator = accelerator or Accelerator(split_batches=True, cpu=not torch.cuda.is_available())
    world, rank = accelerator.num_processes, accelerator.process_index
    if config.batch_size % world:
        raise UserError(
            f"batch_size: {config.batch_size} must be divisible by the {world} processes"
        )
    if len(dataset) < config.batch_size:
        raise UserError(
            f"batch_size: {config.batch_size} is larger than the dataset ({len(dataset)} examples)"
        )
    collate_fn = collate_fn or default_collate
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise UserError("model: has no trainable parameters")
    optimizer = optimizer or torch.optim.AdamW(
        params, lr=config.lr, weight_decay=config.weight_decay
    )

    state = TrainState()
    out = Path(config.out_dir) if config.out_dir is not None else None
    if out is not None and (ckpt := latest_checkpoint(out)) is not None:
        state = _load_checkpoint(ckpt, model, optimizer)
        state.resumed_from = state.step
    model, optimizer = accelerator.prepare(model, optimizer)
    model.train()

    show = config.progress and accelerator.is_main_process and sys.stderr.isatty()
    bar = tqdm(total=config.max_steps, initial=state.step, disable=not show, desc="train")
    while state.step < config.max_steps:
        if on_step_start is not None:
            on_step_start(state.step)
        indices = batch_indices(len(dataset), config.batch_size, config.seed, state.step)
        local = indices[rank * len(indices) // world : (rank + 1) * len(indices) // world]
        batch = _to_device(collate_fn([dataset[i] for i in local]), accelerator.device)
        loss = loss_fn(model, batch)
        mean_loss = accelerator.gather(loss.detach().reshape(1)).mean().item()
        if not math.isfinite(mean_loss):
            raise TrainingDiverged(
                f"loss: became {mean_loss} at step {state.step}; lower lr (now {config.lr}) or set max_grad_norm"
                + (f"; the last checkpoint in {out} is intact" if out is not None else "")
            )
        accelerator.backward(loss)
        if config.max_grad_norm is not None:
            accelerator.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        state.step += 1
        state.losses.append(mean_loss)
        bar.update(1)
        if show and state.step % config.log_every == 0:
            bar.set_postfix(loss=f"{mean_loss:.4f}")
        due = config.checkpoint_every and state.step % config.checkpoint_every == 0
        if out is not None and (due or state.step == config.max_steps):
            if accelerator.is_main_process:
                save_checkpoint(out, accelerator.unwrap_model(model), optimizer, state, config)
            accelerator.wait_for_everyone()
    bar.close()
    return state


def _to_device(batch: Any, device: Any) -> Any:
    if hasattr(batch, "to"):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


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
    out_dir: Path, model: Any, optimizer: Any, state: TrainState, config: TrainConfig
) -> Path:
    """Write model, optimizer, RNG and trainer state to ``out_dir/checkpoint-<step>``."""
    import torch

    from papershelf.checkpoint import save_weights

    final = out_dir / f"checkpoint-{state.step}"
    tmp = out_dir / f".tmp-checkpoint-{state.step}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    save_weights(
        tmp,
        {k: v for k, v in model.state_dict().items() if k in trainable or not trainable},
        name="model",
    )
    opt_tensors, opt_meta = _flatten_optimizer(optimizer.state_dict())
    opt_tensors["rng.torch"] = torch.get_rng_state()
    save_weights(tmp, opt_tensors, opt_meta, name="optimizer")
    atomic_write_json(
        tmp / "trainer_state.json",
        {
            "step": state.step,
            "losses": state.losses,
            "config": asdict(config),  # atomic_write_json writes Paths as strings
        },
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


def _load_checkpoint(folder: Path, model: Any, optimizer: Any) -> TrainState:
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
    saved = json.loads((folder / "trainer_state.json").read_text())
    return TrainState(step=int(saved["step"]), losses=list(saved["losses"]))


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
