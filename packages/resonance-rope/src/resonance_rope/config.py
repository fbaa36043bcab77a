"""``RopeConfig``: every RoPE variant of the package as one validated dataclass.

No torch import here: the CLI parses and validates configs before loading torch.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, fields
from typing import Any

from papershelf.errors import UserError

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


def split_rope_type(name: str) -> tuple[str, bool]:
    """``"resonance_yarn"`` -> ``("yarn", True)``; ``"resonance"`` -> ``("default", True)``."""
    if name not in ROPE_TYPES:
        raise UserError(f"rope_type: {name!r} is unknown; choose from {', '.join(ROPE_TYPES)}")
    if name == "resonance":
        return "default", True
    if name.startswith("resonance_"):
        return name[len("resonance_") :], True
    return name, False


@dataclass
class RopeConfig:
    """One RoPE variant.

    Attributes:
        head_dim: size of one attention head (even after ``partial_rotary_factor``).
        base: RoPE base b (``rope_theta``); theta_j = b^(-2j/d).
        rope_type: one of ``ROPE_TYPES``; a ``resonance_*`` name sets ``resonance=True``.
        resonance: round every wavelength to an integer after scaling (Resonance RoPE, Alg. 1).
        resonance_scope: ``"all"`` pairs (official code) or only ``"pre_critical"`` ones
            (wavelength <= the training length).
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
        if not isinstance(self.head_dim, int) or self.head_dim <= 0 or self.head_dim % 2:
            raise UserError(f"head_dim: must be a positive even integer, got {self.head_dim!r}")
        if not self.base > 1:
            raise UserError(f"base: must be > 1, got {self.base!r}")
        if not (self.factor >= 1) or math.isinf(self.factor):
            raise UserError(f"factor: must be a finite number >= 1, got {self.factor!r}")
        if not 0 < self.partial_rotary_factor <= 1:
            raise UserError(
                f"partial_rotary_factor: must be in (0, 1], got {self.partial_rotary_factor!r}"
            )
        if self.rotary_dim < 2 or self.rotary_dim % 2:
            raise UserError(
                f"partial_rotary_factor: {self.partial_rotary_factor} gives rotary dim {self.rotary_dim}; "
                "it must be even and >= 2"
            )
        for name, allowed in (
            ("resonance_scope", RESONANCE_SCOPES),
            ("ramp", RAMPS),
            ("layout", LAYOUTS),
        ):
            if getattr(self, name) not in allowed:
                raise UserError(
                    f"{name}: {getattr(self, name)!r} is unknown; choose from {', '.join(allowed)}"
                )
        if not self.beta_fast > self.beta_slow > 0:
            raise UserError(
                f"beta_fast/beta_slow: need beta_fast > beta_slow > 0, got {self.beta_fast} and {self.beta_slow}"
            )
        for name in ("original_max_position_embeddings", "max_position_embeddings"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise UserError(f"{name}: must be a positive integer, got {value!r}")
        orig, max_len = self.original_max_position_embeddings, self.max_position_embeddings
        if self.rope_type in ("yarn", "dynamic_yarn") and orig is None:
            raise UserError(
                f"original_max_position_embeddings: required for rope_type {self.type_name!r} "
                "(the pre-extension training length; transformers would silently use max_position_embeddings)"
            )
        if self.rope_type == "dynamic" and max_len is None:
            raise UserError(
                "max_position_embeddings: required for rope_type 'dynamic' (the length it scales from)"
            )
        if orig is not None and max_len is not None:
            if orig > max_len:
                raise UserError(
                    f"original_max_position_embeddings: {orig} is larger than max_position_embeddings {max_len}"
                )
            if self.rope_type in ("yarn", "linear", "ntk") and not math.isclose(
                orig * self.factor, max_len
            ):
                warnings.warn(
                    f"original_max_position_embeddings x factor = {orig * self.factor:g} differs from "
                    f"max_position_embeddings = {max_len}",
                    stacklevel=2,
                )
        if self.resonance and self.resonance_scope == "pre_critical" and self.train_len is None:
            raise UserError(
                "resonance_scope: 'pre_critical' needs original_max_position_embeddings or "
                "max_position_embeddings (the training length that defines the critical pair)"
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
        """A copy with some fields changed (re-validated)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if "rope_type" in changes:
            values["resonance"] = False
        values.update(changes)
        return RopeConfig(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

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
