"""The one training loop every claim and every ``train`` command uses.

``train`` is the light core: optimizer (AdamW by default), learning-rate schedule
(:mod:`papershelf.schedules`), gradient clipping, evaluation every N steps, hooks, a stop on
NaN/inf loss, and a progress bar on a terminal only. ``fit`` wraps it, unchanged in
behaviour, with Hugging Face Accelerate (the same job runs under ``accelerate launch`` /
``torchrun``: the global batch is split across processes and gradients averaged, so 1 and N
processes give the same weights up to rounding) and with checkpoints and exact resume.

Method-specific training behaviour is a :class:`Hook`, never a copy of the loop: DyLoRA's
per-step rank sampling, stochastic weight averaging, distillation schedules::

    class SampleRank(Hook):
        def on_step_start(self, state):
            state.model.sample_rank(state.step)

    state = train(model, data, loss_fn, TrainConfig(max_steps=500), hooks=[SampleRank()])

The data order is a function of ``(seed, step)`` only, so a resumed run continues exactly.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papershelf.config import Config, check_choice, check_positive, check_range
from papershelf.errors import RunFailed, UserError
from papershelf.schedules import SCHEDULES

__all__ = [
    "FunctionHook",
    "Hook",
    "TrainConfig",
    "TrainState",
    "TrainingDiverged",
    "batch_indices",
    "build_optimizer",
    "build_scheduler",
    "fit",
    "latest_checkpoint",
    "train",
    "training_step",
]

OPTIMIZERS = ("adamw", "adam", "sgd")


class TrainingDiverged(RunFailed):
    """The loss became NaN or infinite."""


@dataclass
class TrainConfig(Config):
    """Options of ``train`` and ``fit``; validated on construction.

    Attributes:
        max_steps: training steps to run in total (a resumed run counts from 0).
        batch_size: global batch size (split across processes; divisible by their number).
            Ignored when the data is a callable ``step -> batch``.
        schedule: learning-rate schedule after ``warmup_steps`` linear warm-up steps, one of
            ``papershelf.schedules.SCHEDULES``.
        eval_every: call ``evaluate`` every this many steps (0: only after the last step).
        shuffle: a seeded permutation per epoch (True) or the data in order (False).
        optimizer: ``"adamw"``, ``"adam"`` or ``"sgd"`` (``momentum``), when none is passed.
        checkpoint_every: ``fit`` writes a checkpoint every this many steps (0: only at the end).
        out_dir: ``fit``'s checkpoint folder; ``None`` disables checkpoints and resume.
        progress: show a progress bar (main process, terminals only).
    """

    max_steps: int
    lr: float = 1e-3
    batch_size: int = 32
    weight_decay: float = 0.0
    max_grad_norm: float | None = None
    warmup_steps: int = 0
    schedule: str = "constant"
    eval_every: int = 0
    shuffle: bool = True
    optimizer: str = "adamw"
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.0
    checkpoint_every: int = 0
    out_dir: str | Path | None = None
    seed: int = 0
    log_every: int = 10
    progress: bool = True

    def validate(self) -> None:
        check_range("max_steps", self.max_steps, low=1)
        check_positive("lr", self.lr)
        check_range("batch_size", self.batch_size, low=1)
        check_range("weight_decay", self.weight_decay, low=0)
        if self.max_grad_norm is not None:
            check_positive("max_grad_norm", self.max_grad_norm)
        check_range("warmup_steps", self.warmup_steps, low=0, high=self.max_steps)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_range("eval_every", self.eval_every, low=0)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("momentum", self.momentum, low=0, high=1, high_open=True)
        check_range("checkpoint_every", self.checkpoint_every, low=0)
        if self.checkpoint_every and self.out_dir is None:
            raise UserError("out_dir: checkpoint_every needs an out_dir to write checkpoints into")
        check_range("seed", self.seed, low=0)
        check_range("log_every", self.log_every, low=1)


@dataclass
class TrainState:
    """The loop's state, passed to every hook and returned by ``train``/``fit``.

    Attributes:
        step: training steps done so far.
        losses: the (process-averaged) loss of every step.
        evals: ``{"step": s, **metrics}`` for every evaluation.
        resumed_from: the checkpoint step ``fit`` resumed from, else ``None``.
        wall_seconds / cpu_seconds: time spent in the loop (process CPU time for the latter),
            evaluation included.
        stop: a hook sets it to end training after the current step.
        model / optimizer / scheduler / config: what the loop is running.
    """

    step: int = 0
    losses: list[float] = field(default_factory=list)
    evals: list[dict[str, float]] = field(default_factory=list)
    resumed_from: int | None = None
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    stop: bool = False
    model: Any = field(default=None, repr=False)
    optimizer: Any = field(default=None, repr=False)
    scheduler: Any = field(default=None, repr=False)
    config: TrainConfig | None = field(default=None, repr=False)


class Hook:
    """Called by ``train`` at fixed points; override the methods you need.

    Order within a step: ``on_step_start`` -> forward, backward, clip, optimizer and
    scheduler step (``state.step`` then counts this step) -> ``on_step_end`` -> ``on_eval``
    when an evaluation is due.
    """

    def on_train_start(self, state: TrainState) -> None: ...

    def on_step_start(self, state: TrainState) -> None: ...

    def on_step_end(self, state: TrainState) -> None: ...

    def on_eval(self, state: TrainState, metrics: dict[str, float]) -> None: ...

    def on_train_end(self, state: TrainState) -> None: ...


class FunctionHook(Hook):
    """A hook from plain functions, e.g. ``FunctionHook(on_step_start=lambda s: ...)``."""

    def __init__(self, **callbacks: Callable[..., None]) -> None:
        unknown = set(callbacks) - {n for n in vars(Hook) if n.startswith("on_")}
        if unknown:
            raise UserError(f"hook: unknown callback(s) {sorted(unknown)}")
        for name, fn in callbacks.items():
            setattr(self, name, fn)


def batch_indices(n: int, batch_size: int, seed: int, step: int, shuffle: bool = True) -> list[int]:
    """Dataset indices of global batch ``step``; an epoch is ``n // batch_size`` batches,
    a seeded permutation of ``range(n)`` when ``shuffle`` (else in order)."""
    import torch

    per_epoch = n // batch_size
    epoch, offset = divmod(step, per_epoch)
    if not shuffle:
        return list(range(offset * batch_size, (offset + 1) * batch_size))
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    return perm[offset * batch_size : (offset + 1) * batch_size].tolist()


def build_optimizer(params: Sequence[Any], config: TrainConfig) -> Any:
    """The optimizer ``config.optimizer`` names, over ``params``."""
    import torch

    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)


def build_scheduler(optimizer: Any, config: TrainConfig) -> Any:
    """``config.schedule`` with ``config.warmup_steps`` over ``config.max_steps`` steps."""
    from papershelf.schedules import make_scheduler

    return make_scheduler(optimizer, config.schedule, config.warmup_steps, config.max_steps)


def train(
    model: Any,
    data: Sequence[Any] | Mapping[str, Any] | Callable[[int], Any],
    loss_fn: Callable[[Any, Any], Any],
    config: TrainConfig,
    *,
    hooks: Sequence[Hook] = (),
    evaluate: Callable[[Any], Mapping[str, float]] | None = None,
    optimizer: Any = None,
    scheduler: Any = None,
    collate_fn: Callable[[Sequence[Any]], Any] | None = None,
    accelerator: Any = None,
    state: TrainState | None = None,
) -> TrainState:
    """Train ``model`` for ``config.max_steps`` training steps.

    Args:
        model: a ``torch.nn.Module``; only parameters with ``requires_grad`` are trained.
        data: a sequence of examples (batches made by ``collate_fn``, default torch's), a
            mapping of equal-length tensors (a batch is their rows), or a callable
            ``step -> batch`` (e.g. fresh samples each step).
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``, a mean over the batch.
        evaluate: ``evaluate(model) -> {metric: value}``, run in ``eval()`` mode under
            ``no_grad`` every ``config.eval_every`` steps and after the last step.
        optimizer / scheduler: default to ``build_optimizer`` / ``build_scheduler``.
        accelerator: an ``accelerate.Accelerator`` (``fit`` passes one); plain torch if ``None``.
        state: a state to continue from (``fit`` passes the resumed one).

    Raises:
        TrainingDiverged: the loss became NaN/inf.
    """
    import torch
    from tqdm.auto import tqdm

    runtime = _Runtime(accelerator, model)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise UserError("model: has no trainable parameters")
    next_batch = _batch_source(data, config, collate_fn, runtime)
    optimizer = optimizer or build_optimizer(params, config)
    scheduler = scheduler or build_scheduler(optimizer, config)
    state = state or TrainState()
    state.model, state.optimizer, state.scheduler, state.config = (
        model,
        optimizer,
        scheduler,
        config,
    )
    show = config.progress and runtime.is_main and sys.stderr.isatty()
    bar = tqdm(total=config.max_steps, initial=state.step, disable=not show, desc="train")
    wall, cpu = time.perf_counter(), time.process_time()
    model.train()
    for hook in hooks:
        hook.on_train_start(state)
    while state.step < config.max_steps and not state.stop:
        for hook in hooks:
            hook.on_step_start(state)
        loss = loss_fn(model, runtime.to_device(next_batch(state.step)))
        mean_loss = runtime.mean(loss.detach())
        if not math.isfinite(mean_loss):
            raise TrainingDiverged(
                f"loss: became {mean_loss} at step {state.step}; lower lr (now {config.lr}) "
                "or set max_grad_norm"
            )
        runtime.backward(loss)
        if config.max_grad_norm is not None:
            runtime.clip(params, config.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        state.step += 1
        state.losses.append(mean_loss)
        bar.update(1)
        if show and state.step % config.log_every == 0:
            bar.set_postfix(loss=f"{mean_loss:.4f}")
        for hook in hooks:
            hook.on_step_end(state)
        last = state.step == config.max_steps or state.stop
        if evaluate is not None and (
            last or (config.eval_every and state.step % config.eval_every == 0)
        ):
            with torch.no_grad():  # mode switches too: some modules (PyG's TGN) write state then
                model.eval()
                metrics = {k: float(v) for k, v in evaluate(model).items()}
                model.train()
            state.evals.append({"step": state.step, **metrics})
            for hook in hooks:
                hook.on_eval(state, metrics)
    bar.close()
    for hook in hooks:
        hook.on_train_end(state)
    state.wall_seconds += time.perf_counter() - wall
    state.cpu_seconds += time.process_time() - cpu
    return state


def training_step(
    model: Any, loss_fn: Callable[[Any, Any], Any], optimizer: Any
) -> Callable[[Any], float]:
    """One training step as a function of the batch, for benchmarks that time a step.

    Returns ``step(batch) -> loss``: forward, backward, optimizer update, zero grad.
    """

    def step(batch: Any) -> float:
        loss = loss_fn(model, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    return step


class _Runtime:
    """Plain torch, or the accelerator's process split, device and collectives."""

    def __init__(self, accelerator: Any, model: Any) -> None:
        self.accelerator = accelerator
        if accelerator is None:
            first = next(iter(model.parameters()), None)
            self.device = first.device if first is not None else "cpu"
            self.world, self.rank, self.is_main = 1, 0, True
        else:
            self.device = accelerator.device
            self.world, self.rank = accelerator.num_processes, accelerator.process_index
            self.is_main = accelerator.is_main_process

    def to_device(self, batch: Any) -> Any:
        if hasattr(batch, "to"):
            return batch.to(self.device)
        if isinstance(batch, dict):
            return {k: self.to_device(v) for k, v in batch.items()}
        if isinstance(batch, list | tuple):
            return type(batch)(self.to_device(v) for v in batch)
        return batch

    def mean(self, loss: Any) -> float:
        if self.accelerator is None:
            return loss.item()
        return self.accelerator.gather(loss.reshape(1)).mean().item()

    def backward(self, loss: Any) -> None:
        if self.accelerator is None:
            loss.backward()
        else:
            self.accelerator.backward(loss)

    def clip(self, params: list[Any], max_norm: float) -> None:
        if self.accelerator is None:
            import torch

            torch.nn.utils.clip_grad_norm_(params, max_norm)
        else:
            self.accelerator.clip_grad_norm_(params, max_norm)


def _batch_source(
    data: Any, config: TrainConfig, collate_fn: Callable | None, runtime: _Runtime
) -> Callable[[int], Any]:
    """``step -> this process's share of global batch step``."""
    if callable(data) and not isinstance(data, Sequence | Mapping):
        return data
    if isinstance(data, Mapping):
        sizes = {k: len(v) for k, v in data.items()}
        if len(set(sizes.values())) != 1:
            raise UserError(f"data: the tensors must have equal lengths, got {sizes}")
        n = next(iter(sizes.values()))
    else:
        n = len(data)
    if config.batch_size % runtime.world:
        raise UserError(
            f"batch_size: {config.batch_size} must be divisible by the {runtime.world} processes"
        )
    if n < config.batch_size:
        raise UserError(
            f"batch_size: {config.batch_size} is larger than the dataset ({n} examples)"
        )
    collate = collate_fn or _default_collate

    def next_batch(step: int) -> Any:
        idx = batch_indices(n, config.batch_size, config.seed, step, config.shuffle)
        share = len(idx) // runtime.world
        local = idx[runtime.rank * share : (runtime.rank + 1) * share]
        if isinstance(data, Mapping):
            import torch

            rows = torch.tensor(local)
            return {k: v[rows] for k, v in data.items()}
        return collate([data[i] for i in local])

    return next_batch


def _default_collate(items: Sequence[Any]) -> Any:
    from torch.utils.data import default_collate

    return default_collate(list(items))


class _Checkpointing(Hook):
    """``fit``'s checkpoint writer: every ``checkpoint_every`` steps and after the last. On a
    step that also evaluates, it writes after the evaluation, so a resumed run has it."""

    def __init__(self, out: Path, accelerator: Any, evaluates: bool) -> None:
        self.out, self.accelerator, self.evaluates = out, accelerator, evaluates

    def _due(self, state: TrainState) -> bool:
        config = state.config
        every = config.checkpoint_every and state.step % config.checkpoint_every == 0
        return bool(every or state.step == config.max_steps or state.stop)

    def _eval_due(self, state: TrainState) -> bool:
        config = state.config
        every = config.eval_every and state.step % config.eval_every == 0
        return self.evaluates and bool(every or state.step == config.max_steps or state.stop)

    def on_step_end(self, state: TrainState) -> None:
        if self._due(state) and not self._eval_due(state):
            self._save(state)

    def on_eval(self, state: TrainState, metrics: dict[str, float]) -> None:
        if self._due(state):
            self._save(state)

    def _save(self, state: TrainState) -> None:
        from papershelf.train_checkpoint import save_checkpoint

        if self.accelerator.is_main_process:
            save_checkpoint(
                self.out,
                self.accelerator.unwrap_model(state.model),
                state.optimizer,
                state.step,
                {"losses": state.losses, "evals": state.evals, "config": state.config.to_dict()},
            )
        self.accelerator.wait_for_everyone()


def fit(
    model: Any,
    data: Sequence[Any] | Mapping[str, Any] | Callable[[int], Any],
    loss_fn: Callable[[Any, Any], Any],
    config: TrainConfig,
    *,
    hooks: Sequence[Hook] = (),
    evaluate: Callable[[Any], Mapping[str, float]] | None = None,
    collate_fn: Callable[[Sequence[Any]], Any] | None = None,
    optimizer: Any = None,
    accelerator: Any = None,
) -> TrainState:
    """``train`` under Accelerate, with checkpoints in ``config.out_dir`` and exact resume.

    A run whose ``out_dir`` holds a checkpoint continues from it: weights, optimizer,
    learning-rate schedule, RNG and data order, so an interrupted run ends with the same
    weights as an uninterrupted one. Arguments as in :func:`train`; ``accelerator``
    defaults to one with ``split_batches=True``.
    """
    import torch
    from accelerate import Accelerator

    from papershelf.train_checkpoint import load_checkpoint

    accelerator = accelerator or Accelerator(split_batches=True, cpu=not torch.cuda.is_available())
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise UserError("model: has no trainable parameters")
    optimizer = optimizer or build_optimizer(params, config)
    scheduler = build_scheduler(optimizer, config)  # before the resumed optimizer state: base lrs
    state = TrainState()
    out = Path(config.out_dir) if config.out_dir is not None else None
    if out is not None and (ckpt := latest_checkpoint(out)) is not None:
        saved = load_checkpoint(ckpt, model, optimizer)
        state = TrainState(
            step=int(saved["step"]),
            losses=list(saved["losses"]),
            evals=list(saved.get("evals", [])),
            resumed_from=int(saved["step"]),
        )
        scheduler.last_epoch = state.step
    model, optimizer = accelerator.prepare(model, optimizer)
    extra = [_Checkpointing(out, accelerator, evaluate is not None)] if out is not None else []
    try:
        return train(
            model,
            data,
            loss_fn,
            config,
            hooks=[*hooks, *extra],
            evaluate=evaluate,
            optimizer=optimizer,
            scheduler=scheduler,
            collate_fn=collate_fn,
            accelerator=accelerator,
            state=state,
        )
    except TrainingDiverged as exc:
        if out is None:
            raise
        raise TrainingDiverged(f"{exc}; the last checkpoint in {out} is intact") from None


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The newest complete checkpoint folder in ``out_dir``, or ``None``."""
    from papershelf.train_checkpoint import latest_checkpoint as latest

    return latest(out_dir)
