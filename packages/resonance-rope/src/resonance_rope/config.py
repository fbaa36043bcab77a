"""Every config of the package, each a validated ``papershelf.config.Config``.

- ``RopeConfig``: one RoPE variant (the scaling family, Resonance rounding, layouts).
- ``PosGenConfig``: one PosGen task (rule, lengths, split sizes).
- ``DecoderConfig``: the small decoder of the PosGen experiments.
- ``TrainSettings``: the optimisation of one PosGen model.

No torch import here: the CLI parses and validates configs before loading torch.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from papershelf.config import Config, check_choice, check_positive, check_range
from papershelf.errors import UserError

if TYPE_CHECKING:
    from papershelf.train import TrainConfig

__all__ = [
    "BASE_TYPES",
    "IGNORE_INDEX",
    "LAYOUTS",
    "MAX_HEAD_DIM",
    "POSGEN_ROPES",
    "RAMPS",
    "RESONANCE_SCOPES",
    "ROPE_TYPES",
    "RULES",
    "SPLITS",
    "DecoderConfig",
    "PosGenConfig",
    "RopeConfig",
    "TrainSettings",
    "split_rope_type",
]

#: Base scaling methods; ``resonance=True`` composes with any of them.
BASE_TYPES = ("default", "linear", "ntk", "dynamic", "yarn", "dynamic_yarn")
#: Every rope-type name the package knows, as written in a Hugging Face ``rope_parameters``.
ROPE_TYPES = (
    *BASE_TYPES,
    "resonance",
    "resonance_linear",
    "resonance_ntk",
    "resonance_dynamic",
    "resonance_yarn",
    "resonance_dynamic_yarn",
)
RESONANCE_SCOPES = ("all", "pre_critical")
RAMPS = ("code", "paper")
LAYOUTS = ("half", "interleaved")
#: The RoPE variants a PosGen model is trained with (``resonance-rope posgen --rope``).
POSGEN_ROPES = ("default", "resonance", "yarn", "resonance_yarn")

#: PosGen rules and splits; labels of unpredicted positions.
RULES = ("recursive", "cot", "semi_recursive")
SPLITS = ("disjoint", "official")
IGNORE_INDEX = -100


def split_rope_type(name: str) -> tuple[str, bool]:
    """``"resonance_yarn"`` -> ``("yarn", True)``; ``"resonance"`` -> ``("default", True)``."""
    check_choice("rope_type", name, ROPE_TYPES)
    if name == "resonance":
        return "default", True
    if name.startswith("resonance_"):
        return name[len("resonance_") :], True
    return name, False


#: The largest head dimension a ``RopeConfig`` accepts (real models use <= 256).
MAX_HEAD_DIM = 16384


def _check_finite(name: str, value: Any) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool) and not math.isfinite(value):
        raise UserError(f"{name}: must be a finite number, got {value!r}")


def _check_positive_int(name: str, value: Any) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise UserError(f"{name}: must be a positive integer, got {value!r}")


@dataclass
class RopeConfig(Config):
    """One RoPE variant.

    Attributes:
        head_dim: size of one attention head (even after ``partial_rotary_factor``).
        base: RoPE base b (``rope_theta``); theta_j = b^(-2j/d).
        rope_type: one of ``ROPE_TYPES``; a ``resonance_*`` name sets ``resonance=True``.
        resonance: round every wavelength to an integer after scaling (Resonance RoPE, Alg. 1).
        resonance_scope: ``"all"`` pairs (official code) or only ``"pre_critical"`` ones
            (wavelength <= the training length ``original_max_position_embeddings``, required).
        factor: scale factor s >= 1 (linear, ntk, dynamic, yarn).
        original_max_position_embeddings: pre-extension training length L_orig; required for
            yarn/dynamic_yarn (the YaRN correction range is computed from it).
        max_position_embeddings: the (extended) maximum length; ``dynamic`` scales relative to
            it, exactly as transformers does.
        beta_fast, beta_slow: YaRN correction range in rotations (code names; paper beta, alpha).
        truncate: floor/ceil the YaRN correction range (transformers default).
        attention_factor: explicit cos/sin multiplier (overrides the YaRN formula).
        mscale, mscale_all_dim: DeepSeek-style YaRN attention-factor parameters.
        ramp: YaRN ramp linear in the pair index (``"code"``) or in L/lambda (``"paper"``).
        partial_rotary_factor: fraction of ``head_dim`` that is rotated, in (0, 1].
        layout: rotary pairs ``"half"`` (dims j, j+d/2; HF ``rotate_half``) or ``"interleaved"``.
        exact_periodicity: build resonant angles as (t mod lambda~) * theta~ in integers.
    """

    head_dim: int
    base: float = 10000.0
    rope_type: str = "default"
    resonance: bool = False
    resonance_scope: str = "all"
    factor: float = 1.0
    original_max_position_embeddings: int | None = None
    max_position_embeddings: int | None = None
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    truncate: bool = True
    attention_factor: float | None = None
    mscale: float | None = None
    mscale_all_dim: float | None = None
    ramp: str = "code"
    partial_rotary_factor: float = 1.0
    layout: str = "half"
    exact_periodicity: bool = True

    def __post_init__(self) -> None:
        base_type, res = split_rope_type(self.rope_type)
        self.rope_type = base_type
        self.resonance = bool(self.resonance or res)
        super().__post_init__()

    def validate(self) -> None:
        if (
            not isinstance(self.head_dim, int)
            or isinstance(self.head_dim, bool)
            or self.head_dim <= 0
            or self.head_dim % 2
            or self.head_dim > MAX_HEAD_DIM
        ):
            raise UserError(
                f"head_dim: must be a positive even integer <= {MAX_HEAD_DIM}, got {self.head_dim!r}"
            )
        _check_finite("base", self.base)
        check_range("base", self.base, low=1, low_open=True)
        _check_finite("factor", self.factor)
        check_range("factor", self.factor, low=1)
        for name in ("beta_fast", "beta_slow", "attention_factor", "mscale", "mscale_all_dim"):
            _check_finite(name, getattr(self, name))
        check_range(
            "partial_rotary_factor", self.partial_rotary_factor, low=0, high=1, low_open=True
        )
        if self.rotary_dim < 2 or self.rotary_dim % 2:
            raise UserError(
                f"partial_rotary_factor: {self.partial_rotary_factor} gives rotary dim "
                f"{self.rotary_dim}; it must be even and >= 2"
            )
        check_choice("resonance_scope", self.resonance_scope, RESONANCE_SCOPES)
        check_choice("ramp", self.ramp, RAMPS)
        check_choice("layout", self.layout, LAYOUTS)
        if not self.beta_fast > self.beta_slow > 0:
            raise UserError(
                f"beta_fast/beta_slow: need beta_fast > beta_slow > 0, got {self.beta_fast} "
                f"and {self.beta_slow}"
            )
        _check_positive_int(
            "original_max_position_embeddings", self.original_max_position_embeddings
        )
        _check_positive_int("max_position_embeddings", self.max_position_embeddings)
        orig, max_len = self.original_max_position_embeddings, self.max_position_embeddings
        if self.rope_type in ("yarn", "dynamic_yarn") and orig is None:
            raise UserError(
                f"original_max_position_embeddings: required for rope_type {self.type_name!r} "
                "(the pre-extension training length; transformers would silently use "
                "max_position_embeddings)"
            )
        if self.rope_type == "dynamic" and max_len is None:
            raise UserError(
                "max_position_embeddings: required for rope_type 'dynamic' (the length it "
                "scales from)"
            )
        if orig is not None and max_len is not None:
            if orig > max_len:
                raise UserError(
                    f"original_max_position_embeddings: {orig} is larger than "
                    f"max_position_embeddings {max_len}"
                )
            if self.rope_type in ("yarn", "linear", "ntk") and not math.isclose(
                orig * self.factor, max_len
            ):
                warnings.warn(
                    f"original_max_position_embeddings x factor = {orig * self.factor:g} "
                    f"differs from max_position_embeddings = {max_len}",
                    stacklevel=4,
                )
        if (
            self.resonance
            and self.resonance_scope == "pre_critical"
            and self.original_max_position_embeddings is None
        ):
            raise UserError(
                "resonance_scope: 'pre_critical' needs original_max_position_embeddings (the "
                "training length that defines the critical pair; max_position_embeddings is "
                "the extended length and is not used in its place)"
            )

    @property
    def rotary_dim(self) -> int:
        """Number of rotated dims d_rot = int(head_dim * partial_rotary_factor) (transformers' rule)."""
        return int(self.head_dim * self.partial_rotary_factor)

    @property
    def type_name(self) -> str:
        """The Hugging Face rope-type name, e.g. ``"resonance_yarn"``."""
        if not self.resonance:
            return self.rope_type
        return "resonance" if self.rope_type == "default" else f"resonance_{self.rope_type}"

    @property
    def train_len(self) -> int | None:
        """The training length L that defines pre-/post-critical pairs."""
        return self.original_max_position_embeddings or self.max_position_embeddings

    @property
    def is_dynamic(self) -> bool:
        return self.rope_type in ("dynamic", "dynamic_yarn")

    def replace(self, **changes: Any) -> RopeConfig:
        """A copy with some fields changed (re-validated); a new ``rope_type`` resets ``resonance``
        unless it is given too (so ``replace(rope_type="yarn")`` of a Resonance-YaRN is plain YaRN)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if "rope_type" in changes:
            values["resonance"] = False
        values.update(changes)
        return RopeConfig(**values)

    def to_rope_parameters(self) -> dict[str, Any]:
        """The ``rope_parameters`` dict of a Hugging Face config for this variant."""
        params: dict[str, Any] = {"rope_type": self.type_name, "rope_theta": self.base}
        if self.partial_rotary_factor != 1.0:
            params["partial_rotary_factor"] = self.partial_rotary_factor
        if self.rope_type != "default":
            params["factor"] = self.factor
        if self.original_max_position_embeddings is not None:
            params["original_max_position_embeddings"] = self.original_max_position_embeddings
        if self.rope_type in ("yarn", "dynamic_yarn"):
            params.update(
                beta_fast=self.beta_fast, beta_slow=self.beta_slow, truncate=self.truncate
            )
            for key in ("attention_factor", "mscale", "mscale_all_dim"):
                if getattr(self, key) is not None:
                    params[key] = getattr(self, key)
            if self.ramp != "code":
                params["ramp"] = self.ramp
        if self.resonance and self.resonance_scope != "all":
            params["resonance_scope"] = self.resonance_scope
        if not self.exact_periodicity:
            params["exact_periodicity"] = False
        return params

    @classmethod
    def from_hf(cls, config: Any, layer_type: str | None = None) -> RopeConfig:
        """Read a Hugging Face config (``rope_parameters`` in transformers 5, ``rope_scaling`` in 4)."""
        params = getattr(config, "rope_parameters", None)
        if params is None:
            params = dict(getattr(config, "rope_scaling", None) or {})
            params.setdefault("rope_theta", getattr(config, "rope_theta", 10000.0))
        if layer_type is not None and layer_type in params:
            params = params[layer_type]
        params = dict(params)
        head_dim = (
            getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        )
        rope_type = params.get("rope_type", params.get("type", "default"))
        kwargs: dict[str, Any] = {
            "head_dim": int(head_dim),
            "base": float(params.get("rope_theta", getattr(config, "rope_theta", 10000.0))),
            "rope_type": rope_type,
            "max_position_embeddings": getattr(config, "max_position_embeddings", None),
        }
        simple = (
            "factor",
            "original_max_position_embeddings",
            "attention_factor",
            "mscale",
            "mscale_all_dim",
        )
        for key in (*simple, "beta_fast", "beta_slow", "truncate", "ramp", "partial_rotary_factor"):
            if params.get(key) is not None:
                kwargs[key] = params[key]
        for key in ("resonance_scope", "exact_periodicity"):
            if key in params:
                kwargs[key] = params[key]
        orig, max_len = (
            kwargs.get("original_max_position_embeddings"),
            kwargs["max_position_embeddings"],
        )
        if orig is not None and max_len is not None and orig > max_len:
            kwargs["max_position_embeddings"] = (
                None  # the HF field then means the pre-extension length
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls(**kwargs)


@dataclass
class PosGenConfig(Config):
    """A PosGen task (see ``resonance_rope.posgen``).

    Attributes:
        rule: ``recursive``, ``cot`` or ``semi_recursive``.
        modulus: m, the number of tokens (paper 17).
        far: j, arguments taken from the start / the pointer (paper 1).
        near: k, arguments taken from just before (paper 3).
        train_len: tokens per training sequence, without [EOS] (paper 64).
        test_len: tokens per val/test sequence (paper 256).
        n_train, n_val, n_test: numbers of sequences.
        split: ``disjoint`` (distinct seeds everywhere, as the paper says) or ``official`` (the
            official code: seeds cycle through the C(m, j+k) combinations, val/test reuse the
            first training seeds).
        seed: seed of the disjoint split.
    """

    rule: str
    modulus: int = 17
    far: int = 1
    near: int = 3
    train_len: int = 64
    test_len: int = 256
    n_train: int = 10000
    n_val: int = 1000
    n_test: int = 1000
    split: str = "disjoint"
    seed: int = 0

    def validate(self) -> None:
        check_choice("rule", self.rule, RULES)
        check_choice("split", self.split, SPLITS)
        check_range("modulus", self.modulus, low=2)
        check_range("far", self.far, low=1)
        check_range("near", self.near, low=1)
        if self.train_len <= self.n_seed:
            raise UserError(
                f"train_len: must be > far + near = {self.n_seed}, got {self.train_len}"
            )
        if self.test_len <= self.train_len:
            raise UserError(
                f"test_len: must be > train_len = {self.train_len}, got {self.test_len}"
            )
        for name in ("n_train", "n_val", "n_test"):
            check_range(name, getattr(self, name), low=0)
        total, available = self.n_train + self.n_val + self.n_test, self.modulus**self.n_seed
        if self.split == "disjoint" and total > available:
            raise UserError(
                f"n_train + n_val + n_test: {total} disjoint sequences requested but only "
                f"{available} distinct seeds exist (modulus^(far+near) = "
                f"{self.modulus}^{self.n_seed})"
            )

    @property
    def n_seed(self) -> int:
        return self.far + self.near

    @property
    def vocab_size(self) -> int:
        return self.modulus + 1

    @property
    def eos(self) -> int:
        return self.modulus


@dataclass
class DecoderConfig(Config):
    """Decoder-only Transformer: pre-norm RMSNorm (T5 LayerNorm), ReLU FFN, no biases.

    Attributes:
        vocab_size: tokens (PosGen: modulus + 1).
        d_model, n_layers, n_heads, d_ff: sizes; head dim = d_model / n_heads.
        dropout: on attention output, FFN and embeddings (training only).
        max_positions: initial rotary table length (grows on demand).
    """

    vocab_size: int = 18
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 2
    d_ff: int = 256
    dropout: float = 0.0
    max_positions: int = 512

    def validate(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "d_ff", "max_positions"):
            check_range(name, getattr(self, name), low=1)
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise UserError(
                f"d_model/n_heads: head dim {self.d_model}/{self.n_heads} must be an even integer"
            )
        check_range("dropout", self.dropout, low=0, high=1, high_open=True)

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    @classmethod
    def paper(cls, vocab_size: int = 18) -> DecoderConfig:
        """The paper's model: 2 T5-Small layers (d_model 512, d_ff 2048, 8 heads x 64, dropout 0.1)."""
        return cls(
            vocab_size=vocab_size, d_model=512, n_layers=2, n_heads=8, d_ff=2048, dropout=0.1
        )


@dataclass
class TrainSettings(Config):
    """Optimisation of one PosGen model (paper: 150 epochs, batch 128, AdamW 2e-4, wd 1e-2, OneCycle).

    ``papershelf.train`` runs ``epochs * ceil(n_train / batch_size)`` AdamW steps under the
    ``one_cycle`` schedule, whose peak is at step ``round(pct_start * steps)``.

    Attributes:
        epochs: passes over the training sequences (they set the step count).
        batch_size, lr, weight_decay: AdamW's batch, peak learning rate and weight decay.
        pct_start: fraction of the steps spent rising to the peak learning rate.
        seed: model initialisation and data order.
        eval_batch_size: sequences per forward pass at evaluation.
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-2
    pct_start: float = 0.1
    seed: int = 0
    eval_batch_size: int = 200

    def validate(self) -> None:
        check_range("epochs", self.epochs, low=1)
        check_range("batch_size", self.batch_size, low=1)
        _check_finite("lr", self.lr)
        check_positive("lr", self.lr)
        _check_finite("weight_decay", self.weight_decay)
        check_range("weight_decay", self.weight_decay, low=0)
        check_range("pct_start", self.pct_start, low=0, high=1)
        check_range("seed", self.seed, low=0)
        check_range("eval_batch_size", self.eval_batch_size, low=1)

    def total_steps(self, n_train: int) -> int:
        """Optimizer steps of a run over ``n_train`` sequences: ``epochs * ceil(n_train / batch_size)``."""
        return self.epochs * math.ceil(n_train / self.batch_size)

    def train_config(self, steps: int, **options: Any) -> TrainConfig:
        """``papershelf.train``'s config for ``steps`` steps of these settings.

        AdamW with ``lr`` and ``weight_decay``, the ``one_cycle`` schedule (torch's OneCycleLR
        shape, div 25, final div 1e4) peaking at step ``round(pct_start * steps)``, batches of
        ``batch_size`` in a permutation seeded by ``seed``. ``options`` sets further
        ``TrainConfig`` fields (``out_dir``, ``checkpoint_every``, ``progress`` ...).
        """
        from papershelf.train import TrainConfig

        return TrainConfig(
            **{
                "max_steps": steps,
                "lr": self.lr,
                "batch_size": self.batch_size,
                "weight_decay": self.weight_decay,
                "optimizer": "adamw",
                "schedule": "one_cycle",
                "warmup_steps": round(self.pct_start * steps),
                "seed": self.seed,
                "progress": False,
                **options,
            }
        )
