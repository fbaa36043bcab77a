"""Every config dataclass of the package (docs/design.md, section 3).

- :class:`IntegralConfig`: the method (S signals, layer placement, RoPE mode, signal space).
- :class:`LMConfig`: the small Llama-style decoder used in the experiments, with one attention
  kind per layer (vanilla, integral, diff, cog) and the paper's presets (Appendix A).
- :class:`NoisyRecallConfig`: the synthetic noisy-recall task of the spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from papershelf.config import Config, check_choice, check_positive, check_range
from papershelf.errors import UserError

PLACEMENTS = ("top_half", "all", "bottom_half", "top_quarter", "top_three_quarters", "none")
ROPE_MODES = ("signal", "head")
SIGNAL_SPACES = ("logit", "prob")
ATTENTIONS = ("vanilla", "integral", "diff", "cog")


def divisors(n: int) -> list[int]:
    """The positive divisors of ``n``."""
    return [d for d in range(1, n + 1) if n % d == 0]


def check_signals(head_dim: int, num_signals: int, rope_mode: str = "signal") -> None:
    """Refuse an S that does not split ``head_dim`` into signals (even ones with per-signal RoPE)."""
    if isinstance(num_signals, bool) or not isinstance(num_signals, int) or num_signals < 1:
        raise UserError(f"num_signals: must be an integer >= 1, got {num_signals!r}")
    if head_dim % num_signals:
        raise UserError(
            f"num_signals: must divide head_dim {head_dim} (divisors: "
            f"{', '.join(map(str, divisors(head_dim)))}), got {num_signals}"
        )
    if rope_mode == "signal" and (head_dim // num_signals) % 2:
        ok = [s for s in divisors(head_dim) if (head_dim // s) % 2 == 0]
        raise UserError(
            f"num_signals: head_dim / num_signals must be even for per-signal RoPE (head_dim "
            f"{head_dim} divisible by 2*S; allowed S: {', '.join(map(str, ok))}), got {num_signals}"
        )


def select_layers(layers: str | tuple[int, ...] | list[int], num_layers: int) -> tuple[int, ...]:
    """The 0-based layer indices a placement selects (Sec. 3.4 / 4.3).

    ``top_half`` is ``floor(L/2) .. L-1`` (20 layers -> 10..19, 22 -> 11..21); ``bottom_half``
    is its complement; ``top_quarter`` / ``top_three_quarters`` keep the top ``L - floor(3L/4)``
    / ``L - floor(L/4)`` layers; an explicit list is checked against ``num_layers``.
    """
    check_positive("num_layers", num_layers)
    if isinstance(layers, str):
        check_choice("layers", layers, PLACEMENTS)
        start = {
            "all": 0,
            "top_half": num_layers // 2,
            "top_quarter": (3 * num_layers) // 4,
            "top_three_quarters": num_layers // 4,
            "none": num_layers,
        }
        if layers == "bottom_half":
            return tuple(range(num_layers // 2))
        return tuple(range(start[layers], num_layers))
    idx = tuple(int(i) for i in layers)
    bad = [i for i in idx if not 0 <= i < num_layers]
    if bad or len(set(idx)) != len(idx):
        raise UserError(
            f"layers: must be distinct indices in 0..{num_layers - 1}, got {list(layers)}"
        )
    return tuple(sorted(idx))


def _check_layers_field(layers) -> None:
    if isinstance(layers, str):
        check_choice("layers", layers, PLACEMENTS)
    elif not isinstance(layers, tuple | list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in layers
    ):
        raise UserError(
            f"layers: must be one of {', '.join(PLACEMENTS)} or a list of layer indices, got {layers!r}"
        )


@dataclass
class IntegralConfig(Config):
    """Integral attention settings (spec, "Variants and options").

    Attributes:
        num_signals: S, the number of logit signals per head (eq. 6); d_h = head_dim / S.
        layers: which layers use Integral attention: a preset (``top_half`` default, ``all``,
            ``bottom_half``, ``top_quarter``, ``top_three_quarters``) or explicit indices.
        rope_mode: ``signal`` (RoPE on each d_h sub-vector with the d_h ladder, default) or
            ``head`` (RoPE on the whole head before splitting: then Integral is vanilla
            attention at temperature sqrt(S)).
        signal_space: ``logit`` (average logits, eq. 6) or ``prob`` (average S softmaxes, Table 8).
        rope_theta: the RoPE base b.
    """

    num_signals: int = 8
    layers: str | tuple[int, ...] = "top_half"
    rope_mode: str = "signal"
    signal_space: str = "logit"
    rope_theta: float = 10000.0

    def validate(self) -> None:
        if (
            isinstance(self.num_signals, bool)
            or not isinstance(self.num_signals, int)
            or self.num_signals < 1
        ):
            raise UserError(f"num_signals: must be an integer >= 1, got {self.num_signals!r}")
        _check_layers_field(self.layers)
        if isinstance(self.layers, list):
            self.layers = tuple(self.layers)
        check_choice("rope_mode", self.rope_mode, ROPE_MODES)
        check_choice("signal_space", self.signal_space, SIGNAL_SPACES)
        check_positive("rope_theta", self.rope_theta)

    def check_head_dim(self, head_dim: int) -> None:
        """Refuse a head dim that S does not split (even halves needed for per-signal RoPE)."""
        check_signals(head_dim, self.num_signals, self.rope_mode)


@dataclass
class LMConfig(Config):
    """A small Llama-style decoder (RMSNorm, SwiGLU, RoPE, tied embeddings) whose layers use
    ``attention`` in the ``placement`` layers and vanilla attention elsewhere.

    Diff layers use ``num_heads // 2`` heads of width ``2 * head_dim`` split in two half-heads
    (official ``MultiheadDiffAttn``); Cog layers keep the first and last layer vanilla when
    ``cog_keep_ends`` (Cog's ``'np'`` mode).
    """

    vocab_size: int = 64
    hidden_size: int = 64
    num_layers: int = 4
    num_heads: int = 2
    num_kv_heads: int | None = None
    intermediate_size: int = 256
    max_positions: int = 2048
    attention: str = "integral"
    placement: str | tuple[int, ...] = "top_half"
    num_signals: int = 4
    rope_mode: str = "signal"
    signal_space: str = "logit"
    rope_theta: float = 10000.0
    cog_keep_ends: bool = False
    rms_eps: float = 1e-6
    tie_embeddings: bool = True

    def validate(self) -> None:
        for name in ("vocab_size", "hidden_size", "num_layers", "num_heads", "intermediate_size"):
            check_range(name, getattr(self, name), low=1)
        check_range("max_positions", self.max_positions, low=1)
        if self.hidden_size % self.num_heads:
            raise UserError(
                f"num_heads: must divide hidden_size {self.hidden_size}, got {self.num_heads}"
            )
        kv = self.kv_heads
        if kv < 1 or self.num_heads % kv:
            raise UserError(
                f"num_kv_heads: must divide num_heads {self.num_heads}, got {self.num_kv_heads}"
            )
        check_choice("attention", self.attention, ATTENTIONS)
        _check_layers_field(self.placement)
        if isinstance(self.placement, list):
            self.placement = tuple(self.placement)
        select_layers(self.placement, self.num_layers)
        check_choice("rope_mode", self.rope_mode, ROPE_MODES)
        check_choice("signal_space", self.signal_space, SIGNAL_SPACES)
        check_positive("rope_theta", self.rope_theta)
        check_positive("rms_eps", self.rms_eps)
        if self.head_dim % 2:
            raise UserError(
                f"hidden_size: hidden_size / num_heads must be even, got {self.head_dim}"
            )
        if self.attention == "integral":
            check_signals(self.head_dim, self.num_signals, self.rope_mode)
        if self.attention == "diff":
            if self.num_heads % 2:
                raise UserError(
                    f"num_heads: Diff attention halves the heads, so it must be even, got {self.num_heads}"
                )
            if kv % 2 and kv != self.num_heads:
                raise UserError(f"num_kv_heads: must be even for Diff attention, got {kv}")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def kv_heads(self) -> int:
        return self.num_heads if self.num_kv_heads is None else self.num_kv_heads

    def layer_kinds(self) -> tuple[str, ...]:
        """The attention kind of each layer (``vanilla`` outside the placement)."""
        chosen = set(select_layers(self.placement, self.num_layers))
        kinds = [self.attention if i in chosen else "vanilla" for i in range(self.num_layers)]
        if self.attention == "cog" and self.cog_keep_ends:
            kinds[0] = kinds[-1] = "vanilla"
        return tuple(kinds)

    def integral(self) -> IntegralConfig:
        """The :class:`IntegralConfig` of this model's Integral layers."""
        return IntegralConfig(
            num_signals=self.num_signals,
            layers=self.placement,
            rope_mode=self.rope_mode,
            signal_space=self.signal_space,
            rope_theta=self.rope_theta,
        )

    @classmethod
    def paper_125m(cls, **changes) -> LMConfig:
        """Appendix A, 125M: hidden 768, intermediate 1155, 8 heads, 20 layers, S = 8, top 50 %."""
        values = dict(
            vocab_size=32000,
            hidden_size=768,
            num_layers=20,
            num_heads=8,
            intermediate_size=1155,
            num_signals=8,
        )
        return cls(**{**values, **changes})

    @classmethod
    def paper_1_2b(cls, **changes) -> LMConfig:
        """Appendix A, 1.2B (TinyLlama): hidden 2048, 5632, 32 heads (4 KV), 22 layers, S = 8."""
        values = dict(
            vocab_size=32000,
            hidden_size=2048,
            num_layers=22,
            num_heads=32,
            num_kv_heads=4,
            intermediate_size=5632,
            num_signals=8,
        )
        return cls(**{**values, **changes})


@dataclass
class NoisyRecallConfig(Config):
    """The spec's synthetic noisy-recall task.

    Vocabulary: [BOS] = 0, ``num_punct`` punctuation tokens, ``num_keys`` keys, then values.
    A sequence: [BOS], ``num_pairs`` key-value pairs each followed by ``min_noise..max_noise``
    punctuation tokens, then the keys queried in random order each followed by its value;
    punctuation pads to ``seq_len``.
    """

    vocab_size: int = 64
    num_punct: int = 6
    num_keys: int = 28
    num_pairs: int = 8
    min_noise: int = 1
    max_noise: int = 2
    seq_len: int = 64
    special_ids: tuple[int, ...] = field(default=(0,))

    def validate(self) -> None:
        for name in ("num_punct", "num_keys", "num_pairs", "seq_len"):
            check_range(name, getattr(self, name), low=1)
        check_range("min_noise", self.min_noise, low=0)
        check_range("max_noise", self.max_noise, low=self.min_noise)
        if self.num_values < 2:
            raise UserError(
                f"vocab_size: must leave >= 2 value tokens after BOS, punctuation and keys, got {self.vocab_size}"
            )
        if self.num_pairs > self.num_keys:
            raise UserError(f"num_pairs: must be <= num_keys {self.num_keys}, got {self.num_pairs}")
        longest = 1 + self.num_pairs * (2 + self.max_noise) + 2 * self.num_pairs
        if self.seq_len < longest:
            raise UserError(f"seq_len: must be >= {longest} for these settings, got {self.seq_len}")

    @property
    def num_values(self) -> int:
        return self.vocab_size - 1 - self.num_punct - self.num_keys

    @property
    def punct_ids(self) -> tuple[int, ...]:
        return tuple(range(1, 1 + self.num_punct))


@dataclass
class ZooConfig(Config):
    """The shared model zoo of the claims: one small LM per attention kind / placement, trained
    on the noisy-recall task with ``papershelf.train`` (same data and init seed per seed)."""

    steps: int = 300
    batch_size: int = 32
    lr: float = 3e-3
    warmup_steps: int = 20
    num_pairs: int = 4
    seq_len: int = 32
    n_eval: int = 256
    num_seeds: int = 1
    hidden_size: int = 64
    num_layers: int = 4
    num_heads: int = 2
    num_signals: int = 4
    intermediate_size: int = 256
    models: tuple[str, ...] = (
        "vanilla",
        "intg_top",
        "intg_all",
        "intg_bottom",
        "diff_top",
        "cog_top",
    )

    def validate(self) -> None:
        for name in ("steps", "batch_size", "n_eval", "num_seeds", "num_pairs", "seq_len"):
            check_range(name, getattr(self, name), low=1)
        check_positive("lr", self.lr)
        check_range("warmup_steps", self.warmup_steps, low=0)
        if isinstance(self.models, list):
            self.models = tuple(self.models)
        for m in self.models:
            check_choice("models", m, ZOO_MODELS)

    @classmethod
    def quick(cls) -> ZooConfig:
        """The ``reproduce --quick`` zoo: 4 pairs in 32 tokens, 300 steps, one seed."""
        return cls()

    @classmethod
    def full(cls) -> ZooConfig:
        """The spec's full zoo: 8 pairs in 64 tokens, 2,000 steps, 3 seeds."""
        return cls(steps=2000, num_pairs=8, seq_len=64, num_seeds=3)


ZOO_MODELS = {
    "vanilla": {"attention": "vanilla", "placement": "top_half"},
    "intg_top": {"attention": "integral", "placement": "top_half"},
    "intg_all": {"attention": "integral", "placement": "all"},
    "intg_bottom": {"attention": "integral", "placement": "bottom_half"},
    "intg_prob_all": {"attention": "integral", "placement": "all", "signal_space": "prob"},
    "diff_top": {"attention": "diff", "placement": "top_half"},
    "cog_top": {"attention": "cog", "placement": "top_half"},
}
