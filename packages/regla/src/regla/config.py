"""All of regla's config dataclasses (validated on construction, JSON round trips).

Options marked "unverified" in the spec (feature-map details, variance scale placement,
norm type, gate parameterisation) are fields here, so a default can be switched without a
code change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from papershelf.config import Config, check_choice, check_positive, check_range
from papershelf.errors import UserError

FEATURE_MAPS = ("safe_exp", "relu", "elu1", "identity")
KEY_MAX = ("sequence", "token")
VARIANCE_SCALES = ("none", "score", "logit_temperature")
NORMS = ("rmsnorm", "layernorm", "denominator", "none")
NORM_SCOPES = ("head", "full")
GATES = ("refine", "sigmoid", "scalar", "none")
OUTPUT_GATES = ("none", "swish")
MODES = ("chunk", "recurrent", "parallel")
LAYER_TYPES = ("regla", "softmax")
LAYER_PRESETS = ("all", "alternate", "softmax")
TASKS = ("mqar", "decay", "text")


def variance_alpha(d: int) -> float:
    """The variance-reduction factor alpha = 1 / (e * sqrt(d (e^2 - 1))) ("Theorem 3.1", unverified)."""
    return 1.0 / (math.e * math.sqrt(d * (math.e**2 - 1.0)))


@dataclass
class ReGLAConfig(Config):
    """One ReGLA attention layer (spec section "Variants and options").

    Attributes:
        hidden_size: model width D; must be divisible by ``num_heads``.
        num_heads: H.
        key_dim / value_dim: per-head d_k / d_v (default D / H).
        feature_map: phi, one of ``FEATURE_MAPS`` (``safe_exp`` = exp(x - max), section 3(a)).
        key_max: the key max of safe-exp over the whole sequence per head (``sequence``) or per token.
        variance_scale: where the factor alpha goes: ``score`` multiplies the read-out (cancels under
            a per-head norm), ``logit_temperature`` multiplies the feature logits by d_k^(-1/2)
            (ours: a temperature), ``none``.
        norm / norm_scope / norm_eps: the read-out normalisation (section 3(b)); ``denominator`` is
            linear attention's c_t^T phi(q_t); scope ``head`` (over d_v) or ``full`` (over H d_v).
        gate: ``refine`` (ReGLA, section 3(c)), ``sigmoid`` (GLA), ``scalar`` (RFA-gate, eqs. 6-7),
            ``none`` (plain linear attention).
        gate_rank: low-rank gate projections when an int.
        gate_logit_normalizer: tau: log F / tau (fla's GLA uses 16).
        gate_bias_init / refine_bias_init: initial biases of the gate and refine projections.
        output_gate: GLA's swish output gate (off in ReGLA).
        mode / chunk_size / sub_chunk: computational form (all give one function).
        use_rope: rotary positions on q/k inside the layer (off: gates carry order).
        qkv_bias: biases on the q/k/v projections (Qwen2 and attention_bias models).
    """

    hidden_size: int = 64
    num_heads: int = 2
    key_dim: int | None = None
    value_dim: int | None = None
    feature_map: str = "safe_exp"
    key_max: str = "sequence"
    variance_scale: str = "score"
    norm: str = "rmsnorm"
    norm_scope: str = "head"
    norm_eps: float = 1e-5
    gate: str = "refine"
    gate_rank: int | None = None
    gate_logit_normalizer: float = 1.0
    gate_bias_init: float = 0.0
    refine_bias_init: float = 0.0
    output_gate: str = "none"
    mode: str = "chunk"
    chunk_size: int = 64
    sub_chunk: int | None = None
    use_rope: bool = False
    qkv_bias: bool = False

    def validate(self) -> None:
        check_range("hidden_size", self.hidden_size, low=1)
        check_range("num_heads", self.num_heads, low=1)
        if self.hidden_size % self.num_heads:
            raise UserError(
                f"num_heads: must divide hidden_size={self.hidden_size}, got {self.num_heads}"
            )
        for name in ("key_dim", "value_dim", "gate_rank"):
            if getattr(self, name) is not None:
                check_range(name, getattr(self, name), low=1)
        check_choice("feature_map", self.feature_map, FEATURE_MAPS)
        check_choice("key_max", self.key_max, KEY_MAX)
        check_choice("variance_scale", self.variance_scale, VARIANCE_SCALES)
        check_choice("norm", self.norm, NORMS)
        check_choice("norm_scope", self.norm_scope, NORM_SCOPES)
        check_range("norm_eps", self.norm_eps, low=0)
        check_choice("gate", self.gate, GATES)
        check_positive("gate_logit_normalizer", self.gate_logit_normalizer)
        check_range("gate_bias_init", self.gate_bias_init)
        check_range("refine_bias_init", self.refine_bias_init)
        check_choice("output_gate", self.output_gate, OUTPUT_GATES)
        check_choice("mode", self.mode, MODES)
        check_range("chunk_size", self.chunk_size, low=1)
        if self.sub_chunk is not None:
            check_range("sub_chunk", self.sub_chunk, low=1)
        if self.chunk_size % self.resolved_sub_chunk:
            raise UserError(
                f"chunk_size: must be a multiple of sub_chunk={self.resolved_sub_chunk}, "
                f"got {self.chunk_size}"
            )
        if self.use_rope and self.head_k_dim % 2:
            raise UserError(f"key_dim: must be even with use_rope, got {self.head_k_dim}")

    @property
    def head_k_dim(self) -> int:
        return self.key_dim or self.hidden_size // self.num_heads

    @property
    def head_v_dim(self) -> int:
        return self.value_dim or self.hidden_size // self.num_heads

    @property
    def resolved_sub_chunk(self) -> int:
        return self.sub_chunk or min(16, self.chunk_size)

    @classmethod
    def gla(cls, **kw: Any) -> ReGLAConfig:
        """GLA as the paper's baseline: sigmoid gate, same features and norm."""
        return cls(**{"gate": "sigmoid", **kw})

    @classmethod
    def la_relu(cls, **kw: Any) -> ReGLAConfig:
        """Linear attention with ReLU features and the classic denominator, no gate."""
        return cls(
            **{
                "gate": "none",
                "feature_map": "relu",
                "norm": "denominator",
                "variance_scale": "none",
                **kw,
            }
        )

    @classmethod
    def scalar_gate(cls, **kw: Any) -> ReGLAConfig:
        """RFA-gate (eqs. 6-7): one sigmoid gate per head, update scaled by (1 - g)."""
        return cls(**{"gate": "scalar", **kw})


@dataclass
class LMConfig(Config):
    """The tiny causal LM: embeddings, ``num_layers`` pre-norm blocks, RMSNorm, tied head.

    Attributes:
        layer_types: ``"all"`` (every layer ReGLA), ``"alternate"`` (ReGLA at odd indices,
            softmax elsewhere: the paper's hybrid), ``"softmax"`` or an explicit list.
        attention: the ReGLA layer config (its ``hidden_size``/``num_heads`` must match).
    """

    vocab_size: int = 64
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 2
    mlp_ratio: int = 2
    layer_types: str | tuple[str, ...] = "all"
    max_len: int = 4096
    attention: ReGLAConfig = field(default_factory=ReGLAConfig)

    def validate(self) -> None:
        check_range("vocab_size", self.vocab_size, low=2)
        check_range("num_layers", self.num_layers, low=1)
        check_range("mlp_ratio", self.mlp_ratio, low=1)
        check_range("max_len", self.max_len, low=1)
        if isinstance(self.layer_types, list):
            self.layer_types = tuple(self.layer_types)
        if isinstance(self.layer_types, str):
            check_choice("layer_types", self.layer_types, LAYER_PRESETS)
        else:
            for t in self.layer_types:
                check_choice("layer_types", t, LAYER_TYPES)
            if len(self.layer_types) != self.num_layers:
                raise UserError(
                    f"layer_types: must have num_layers={self.num_layers} entries, "
                    f"got {len(self.layer_types)}"
                )
        if isinstance(self.attention, dict):
            self.attention = ReGLAConfig.from_dict(self.attention)
        if (self.attention.hidden_size, self.attention.num_heads) != (
            self.hidden_size,
            self.num_heads,
        ):
            self.attention = self.attention.replace(
                hidden_size=self.hidden_size, num_heads=self.num_heads
            )

    def resolved_layer_types(self) -> tuple[str, ...]:
        return resolve_layer_types(self.layer_types, self.num_layers)


def resolve_layer_types(layer_types: str | tuple[str, ...] | list, n: int) -> tuple[str, ...]:
    """``"all"`` / ``"alternate"`` (ReGLA at odd indices, spec (g)) / ``"softmax"`` / a list."""
    if layer_types == "all":
        return ("regla",) * n
    if layer_types == "softmax":
        return ("softmax",) * n
    if layer_types == "alternate":
        return tuple("regla" if i % 2 else "softmax" for i in range(n))
    return tuple(layer_types)


@dataclass
class TrainJobConfig(Config):
    """``regla train``: a tiny LM on a synthetic task or a local text file.

    Attributes:
        task: ``mqar`` (associative recall), ``decay`` (token copy with decay, as LM text) or
            ``text`` (bytes of the ``data`` file).
    """

    task: str = "mqar"
    data: str | None = None
    lm: LMConfig = field(default_factory=LMConfig)
    steps: int = 300
    batch_size: int = 32
    seq_len: int = 128
    lr: float = 3e-3
    seed: int = 0
    num_pairs: int = 8

    def validate(self) -> None:
        check_choice("task", self.task, TASKS)
        if self.task == "text" and not self.data:
            raise UserError("data: must be a text file path with task 'text', got None")
        check_range("steps", self.steps, low=1)
        check_range("batch_size", self.batch_size, low=1)
        check_range("seq_len", self.seq_len, low=4)
        check_positive("lr", self.lr)
        check_range("seed", self.seed, low=0)
        check_range("num_pairs", self.num_pairs, low=1)
        if isinstance(self.lm, dict):
            self.lm = LMConfig.from_dict(self.lm)
        if self.task == "mqar" and self.seq_len < 4 * self.num_pairs:
            raise UserError(
                f"seq_len: must be >= 4 * num_pairs = {4 * self.num_pairs} for mqar, got {self.seq_len}"
            )
