"""DyLoRA's rank per training step: the draw b ~ p_B and the training-loop hook that applies it.

:func:`draw_rank` is a pure function of ``(seed, step[, layer])``. The official code draws one
b per training step in a Trainer callback; deriving the draw from ``(seed, step)`` instead of
a process-local RNG gives the same b on every DDP process and in a resumed run, with no
communication. ``random.Random`` seeded with a string is stable across processes and Python
versions (it hashes the string with SHA-512).

:class:`RankHook` is the same per-step behaviour for :func:`papershelf.train.train` /
``fit`` (``DyLoRACallback`` is the Hugging Face ``Trainer``'s)::

    train(model, data, loss_fn, TrainConfig(max_steps=500), hooks=[RankHook(model)])
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from papershelf.train import Hook, TrainState

from dylora.config import DyLoRAConfig

if TYPE_CHECKING:
    from dylora.model import DyLoRAModel

__all__ = ["RankHook", "check_lora_baseline", "draw_rank"]


def draw_rank(config: DyLoRAConfig, step: int, layer: int | None = None) -> int:
    """The rank b ∈ {r_min..r_max} of training step ``step`` (and ``layer`` for per-layer scope)."""
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step: must be a non-negative integer, got {step!r}")
    key = f"dylora:{config.seed}:{step}" + ("" if layer is None else f":{layer}")
    rng = random.Random(key)
    if config.rank_distribution == "uniform":
        return rng.randint(config.r_min, config.r_max)
    pmf = config.rank_pmf()
    return rng.choices(list(pmf), weights=list(pmf.values()))[0]


def check_lora_baseline(model: DyLoRAModel, fixed_rank: int | None) -> None:
    """A fixed-rank run is plain LoRA only with ``update_mode="all"`` (frozen trains one row)."""
    if fixed_rank is not None and fixed_rank > 1 and model.dylora_config.update_mode != "all":
        raise ValueError(
            "update_mode: a fixed-rank (plain LoRA) run needs update_mode='all'; "
            "'frozen' would train only row b"
        )


class RankHook(Hook):
    """DyLoRA's rank control as a :class:`papershelf.train.Hook`.

    ``on_step_start`` sets this step's rank: ``model.sample_rank(state.step)`` (b = f(seed,
    step), so a resumed run continues the same draws), or, with ``fixed_rank``, nothing:
    the rank set once in ``on_train_start`` is held (a plain LoRA at that rank; it needs
    ``update_mode="all"``). ``on_step_end`` runs after the training step: with
    ``strict_freeze`` it puts back every row outside the step's active set
    (``model.restore_inactive_rows()``).

    Args:
        model: the :class:`dylora.DyLoRAModel` being trained (``fit`` may hand the hooks an
            Accelerate-wrapped model, so the wrapper is passed here).
        fixed_rank: hold this rank instead of sampling one per step.
    """

    def __init__(self, model: DyLoRAModel, fixed_rank: int | None = None) -> None:
        if fixed_rank is not None:
            model.dylora_config.check_rank(fixed_rank, "fixed_rank")
        check_lora_baseline(model, fixed_rank)
        self.model = model
        self.fixed_rank = fixed_rank
        self.strict = model.dylora_config.strict_freeze and fixed_rank is None

    def on_train_start(self, state: TrainState) -> None:
        if self.fixed_rank is not None:
            self.model.set_rank(self.fixed_rank)

    def on_step_start(self, state: TrainState) -> None:
        if self.fixed_rank is None:
            self.model.sample_rank(state.step)

    def on_step_end(self, state: TrainState) -> None:
        if self.strict:
            self.model.restore_inactive_rows()

    def __repr__(self) -> str:
        rank: Any = "sampled" if self.fixed_rank is None else self.fixed_rank
        return f"RankHook(rank={rank}, strict_freeze={self.strict})"
