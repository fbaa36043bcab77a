"""The package's configs, validated on construction (:class:`papershelf.config.Config`).

- ``DyLoRAConfig``: every option of a DyLoRA adapter (saved in ``adapter_config.json``).
- ``RunOptions``: the model, data and training options of ``dylora train`` (saved as
  ``run_config.json`` in the run folder).

Nothing here imports torch, so the configs can be built and checked by the CLI cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from papershelf.config import Config, check_choice, check_positive, check_range
from papershelf.errors import UserError

__all__ = [
    "INIT_MODES",
    "RANK_DISTRIBUTIONS",
    "SAMPLING_SCOPES",
    "SCALINGS",
    "UPDATE_MODES",
    "DyLoRAConfig",
    "RunOptions",
    "parse_ranks",
]

UPDATE_MODES = ("frozen", "all")
RANK_DISTRIBUTIONS = ("uniform", "geometric")
SAMPLING_SCOPES = ("global", "per_layer")
SCALINGS = ("alpha_over_b", "alpha_over_rmax")
INIT_MODES = ("kaiming", "gaussian")
MAX_LENGTH_LIMIT = 4096
"""The most tokens per text ``dylora train`` accepts (BERT-style encoders hold 512)."""


def _check_int(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"{field}: must be an integer, got {value!r}")


@dataclass
class DyLoRAConfig(Config):
    """Options of a DyLoRA adapter (Valipour et al., 2023).

    Attributes:
        r_max: the largest rank (rows of ``lora_A``), ``>= r_min``.
        r_min: the smallest rank that is sampled or may be set, ``>= 1``.
        alpha: the LoRA α; the rank-b update is scaled by α/b (Eq. 7) or α/r_max.
        dropout: dropout on the adapter's input (PEFT's ``lora_dropout``), in [0, 1).
        target_modules: PEFT semantics — a list of module-name suffixes, a full-match regex,
            ``"all-linear"``, or ``None`` for the architecture's query/value default.
        exclude_modules: names (same rules) never adapted.
        modules_to_save: modules trained fully and saved with the adapter (e.g. ``["classifier"]``).
        update_mode: ``"frozen"`` (Eq. 10: only row/column b learns; the released code) or
            ``"all"`` (rows 1..b learn; Table 4's better variant).
        strict_freeze: restore the rows outside the active set after every training step
            (AdamW momentum and weight decay otherwise move them).
        rank_distribution: p_B, ``"uniform"`` on {r_min..r_max} or ``"geometric"``.
        geometric_p: ``P(b) ∝ p·(1-p)^(b-r_min)`` renormalised on the range, p in (0, 1).
        sampling_scope: ``"global"`` (one b per training step for all layers, as the official
            code) or ``"per_layer"`` (each layer its own b, still once per step).
        scaling: ``"alpha_over_b"`` (the paper) or ``"alpha_over_rmax"`` (constant scale).
        init: ``lora_A`` initialisation, ``"kaiming"`` (uniform, a=√5; official code) or
            ``"gaussian"`` (N(0, σ=1/r_max), the paper's text; PEFT's std); ``lora_B`` starts at zero.
        eval_rank: the rank used in eval mode and by ``from_pretrained``; ``None`` = r_max.
        seed: seeds the rank draws, which are a function of ``(seed, step)`` only.
    """

    r_max: int = 8
    r_min: int = 1
    alpha: float = 16.0
    dropout: float = 0.0
    target_modules: list[str] | str | None = None
    exclude_modules: list[str] | str | None = None
    modules_to_save: list[str] | None = None
    update_mode: str = "frozen"
    strict_freeze: bool = False
    rank_distribution: str = "uniform"
    geometric_p: float = 0.15
    sampling_scope: str = "global"
    scaling: str = "alpha_over_b"
    init: str = "kaiming"
    eval_rank: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("target_modules", "exclude_modules"):
            value = getattr(self, name)
            if isinstance(value, tuple):
                setattr(self, name, list(value))
        if isinstance(self.modules_to_save, str):
            self.modules_to_save = [self.modules_to_save]
        elif self.modules_to_save is not None:
            self.modules_to_save = list(self.modules_to_save)
        super().__post_init__()

    def validate(self) -> None:
        for name in ("r_max", "r_min", "seed"):
            _check_int(name, getattr(self, name))
        check_range("r_min", self.r_min, low=1)
        if self.r_min > self.r_max:
            raise UserError(f"r_min: must be <= r_max ({self.r_max}), got {self.r_min}")
        check_positive("alpha", self.alpha)
        if not math.isfinite(self.alpha):
            raise UserError(f"alpha: must be a finite number > 0, got {self.alpha!r}")
        check_range("dropout", self.dropout, low=0, high=1, high_open=True)
        check_range("geometric_p", self.geometric_p, low=0, high=1, low_open=True, high_open=True)
        check_range("seed", self.seed, low=0)
        check_choice("update_mode", self.update_mode, UPDATE_MODES)
        check_choice("rank_distribution", self.rank_distribution, RANK_DISTRIBUTIONS)
        check_choice("sampling_scope", self.sampling_scope, SAMPLING_SCOPES)
        check_choice("scaling", self.scaling, SCALINGS)
        check_choice("init", self.init, INIT_MODES)
        if not isinstance(self.strict_freeze, bool):
            raise UserError(f"strict_freeze: must be true or false, got {self.strict_freeze!r}")
        if self.eval_rank is not None:
            self.check_rank(self.eval_rank, "eval_rank")

    @property
    def ranks(self) -> list[int]:
        """The admissible ranks ``r_min..r_max``."""
        return list(range(self.r_min, self.r_max + 1))

    @property
    def resolved_eval_rank(self) -> int:
        return self.r_max if self.eval_rank is None else self.eval_rank

    def check_rank(self, b: Any, field_name: str = "rank") -> int:
        """Return ``b`` if it is an integer in [r_min, r_max], else raise a one-line error."""
        if isinstance(b, bool) or not isinstance(b, int):
            raise UserError(
                f"{field_name}: must be an integer in [{self.r_min}, {self.r_max}], got {b!r}"
            )
        if not self.r_min <= b <= self.r_max:
            raise UserError(f"{field_name}: must be in [{self.r_min}, {self.r_max}], got {b}")
        return b

    def scale(self, b: int) -> float:
        """The factor of the rank-b update: α/b (Eq. 7) or α/r_max."""
        return self.alpha / (b if self.scaling == "alpha_over_b" else self.r_max)

    def rank_pmf(self) -> dict[int, float]:
        """p_B on {r_min..r_max}: uniform, or geometric ``∝ p(1-p)^(b-r_min)``."""
        if self.rank_distribution == "uniform":
            weights = [1.0] * len(self.ranks)
        else:
            p = self.geometric_p
            weights = [p * (1 - p) ** (b - self.r_min) for b in self.ranks]
        total = sum(weights)
        return {b: w / total for b, w in zip(self.ranks, weights, strict=True)}


@dataclass
class RunOptions(Config):
    """Model, data and training options of ``dylora train`` (saved as ``run_config.json``).

    Attributes:
        model: a hub name, a local folder, ``"offline"`` (the bundled MiniLM) or a tiny model.
        train_file / eval_file: JSONL/CSV data; ``None``: the synthetic topic task.
        text_field / label_field: the columns of the data files.
        steps, lr, batch_size: the training steps, AdamW learning rate (finite, > 0) and
            batch size (at most the number of training texts, checked once they are read).
        max_length: tokens per text (padded/truncated), at most ``MAX_LENGTH_LIMIT``.
        seed: seeds everything the run builds: model initialisation (a random base such as
            ``tiny-encoder``), the adapter, the data order, dropout and the synthetic task.
        checkpoint_every: write a resumable checkpoint every this many steps (0: only at the
            end); not part of the run's fingerprint (it does not change the weights).
        num_classes / label_names: the label set (filled in from the training data).
    """

    model: str = "offline"
    train_file: str | None = None
    eval_file: str | None = None
    text_field: str = "text"
    label_field: str = "label"
    steps: int = 150
    lr: float = 2e-3
    batch_size: int = 32
    max_length: int = 64
    seed: int = 0
    num_classes: int = 4
    label_names: list[str] | None = None
    checkpoint_every: int = 50

    def validate(self) -> None:
        for name in (
            "steps",
            "batch_size",
            "max_length",
            "seed",
            "num_classes",
            "checkpoint_every",
        ):
            _check_int(name, getattr(self, name))
        check_range("steps", self.steps, low=1)
        check_range("checkpoint_every", self.checkpoint_every, low=0)
        if not math.isfinite(self.lr) or self.lr <= 0:
            raise UserError(f"lr: must be a finite number > 0, got {self.lr!r}")
        check_range("batch_size", self.batch_size, low=1)
        check_range("max_length", self.max_length, low=1, high=MAX_LENGTH_LIMIT)
        check_range("seed", self.seed, low=0)
        if self.label_names is not None:
            self.label_names = list(self.label_names)


def parse_ranks(spec: str, config: DyLoRAConfig | None = None) -> list[int]:
    """Parse ``"1-8"``, ``"1,2,4,8"`` or ``"2-8:2"`` into sorted unique ranks.

    With a ``config``, every rank must lie in [r_min, r_max].
    """
    ranks: set[int] = set()
    for token in (t.strip() for t in str(spec).split(",")):
        try:
            if "-" in token:
                span, _, step_text = token.partition(":")
                lo_text, _, hi_text = span.partition("-")
                lo, hi, step = int(lo_text), int(hi_text), int(step_text or 1)
                if lo > hi or step < 1:
                    raise ValueError
                ranks.update(range(lo, hi + 1, step))
            else:
                ranks.add(int(token))
        except ValueError:
            raise UserError(
                f"ranks: cannot parse {token!r} in {spec!r}; use e.g. '1-8', '1,2,4,8' or '2-8:2'"
            ) from None
    out = sorted(ranks)
    if config is not None:
        for b in out:
            config.check_rank(b, "ranks")
    elif out and out[0] < 1:
        raise UserError(f"ranks: must be >= 1, got {out[0]} in {spec!r}")
    return out
