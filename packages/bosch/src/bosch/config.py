"""All of bosch's config dataclasses (validated on construction, JSON round trips)."""

from __future__ import annotations

from dataclasses import dataclass

from papershelf.config import Config, check_choice, check_positive, check_range
from papershelf.errors import UserError

__all__ = ["BoschConfig", "TaskConfig", "TinyLMConfig"]

SOLVERS = ("swap_ls", "random", "exhaustive")
STAGES = ("full", "single", "multi", "layer")


@dataclass
class BoschConfig(Config):
    """Options of the BOSCH search (spec "Variants and options"; defaults marked ours there).

    Attributes:
        ratio: target fraction ρ of KV groups turned into sliding-window attention, in [0, 1].
        window: W, keys each SWA query sees including itself (transformers' convention).
        sink_tokens: leading tokens every SWA head also keeps (0 = none, the default).
        stages: "full" (3 stages), "single" (stage 1 only, B-single), "multi" (stage 3 only,
            uniform per-layer counts, B-multi), "layer" (layer-level search, B-layer).
        sensitivity: stage-2 drop, "marginal" s_{l+1} - s_l (ours) or "cumulative" S_full - s_l.
        bucket_offsets: stage-2 per-layer count offsets around ρ·G (hard, middle, easy), in
            units of G/8 (the spec's ±2 groups at G = 8).
        budget_probe: b1, the most evaluations per layer in stage 1 (capped at C(G, n1)).
        budget_factor: b3 = budget_factor × variables per stage-3 chunk.
        max_vars: the most variables optimised jointly in one stage-3 chunk.
        solver: the black-box solver of every neighbourhood.
        patience: non-improving evaluations before swap_ls restarts from its best mask.
        penalty_alpha: α of the ratio penalty α(ρ(z) - ρ)² in the objective.
        seed: seed of the solver's random move order.
    """

    ratio: float = 0.5
    window: int = 1024
    sink_tokens: int = 0
    stages: str = "full"
    sensitivity: str = "marginal"
    bucket_offsets: tuple[int, int, int] = (-2, 0, 2)
    budget_probe: int = 30
    budget_factor: int = 10
    max_vars: int = 48
    solver: str = "swap_ls"
    patience: int = 20
    penalty_alpha: float = 10.0
    seed: int = 0

    def validate(self) -> None:
        check_range("ratio", self.ratio, low=0.0, high=1.0)
        check_range("window", self.window, low=1)
        check_range("sink_tokens", self.sink_tokens, low=0)
        check_choice("stages", self.stages, STAGES)
        check_choice("sensitivity", self.sensitivity, ("marginal", "cumulative"))
        if len(self.bucket_offsets) != 3 or sorted(self.bucket_offsets) != list(
            self.bucket_offsets
        ):
            raise UserError(
                f"bucket_offsets: must be 3 increasing integers, got {self.bucket_offsets!r}"
            )
        check_range("budget_probe", self.budget_probe, low=1)
        check_range("budget_factor", self.budget_factor, low=1)
        check_range("max_vars", self.max_vars, low=1)
        check_choice("solver", self.solver, SOLVERS)
        check_range("patience", self.patience, low=1)
        check_range("penalty_alpha", self.penalty_alpha, low=0.0)


@dataclass
class TinyLMConfig(Config):
    """The small GQA decoder of the quick runs (spec "Claims to reproduce", quick setting).

    Attributes:
        vocab_size: tokens (0-31 random keys, 32-63 filler).
        dim: model width d.
        num_layers: decoder blocks.
        num_heads: query heads per layer.
        num_kv_heads: KV heads (= decision groups) per layer; divides num_heads.
        ffn_dim: GELU feed-forward width.
        max_len: longest sequence (RoPE is computed on the fly; only a sanity bound).
        rope_theta: RoPE base.
    """

    vocab_size: int = 64
    dim: int = 64
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    ffn_dim: int = 256
    max_len: int = 16384
    rope_theta: float = 10000.0

    def validate(self) -> None:
        for name in ("vocab_size", "dim", "num_layers", "num_heads", "num_kv_heads", "ffn_dim"):
            check_range(name, getattr(self, name), low=1)
        if self.num_heads % self.num_kv_heads:
            raise UserError(
                f"num_kv_heads: must divide num_heads ({self.num_heads}), got {self.num_kv_heads}"
            )
        if self.dim % self.num_heads or (self.dim // self.num_heads) % 2:
            raise UserError(
                f"dim: must be num_heads × an even head size, got {self.dim} for {self.num_heads} heads"
            )
        check_positive("rope_theta", self.rope_theta)
        check_range("max_len", self.max_len, low=2)


@dataclass
class TaskConfig(Config):
    """The synthetic retrieval task: random keys, local order-2 filler, the keys repeated.

    A sequence is ``num_keys`` random tokens from [0, key_vocab), ``filler`` tokens of the
    rule x_t = key_vocab + ((x_{t-1} - key_vocab)·5 + (x_{t-2} - key_vocab)) mod key_vocab
    (two random starts), then the keys repeated; scored on the repeated keys.

    Attributes:
        num_keys: length of the random segment (and of its repeat).
        filler: length of the local filler between them.
        key_vocab: random keys come from [0, key_vocab); filler from [key_vocab, 2·key_vocab).
        train_steps: training steps of the tiny model.
        batch_size: training batch.
        lr: AdamW peak learning rate (one-cycle schedule).
        calib_samples: sequences of the calibration set (black-box score).
        test_samples: disjoint sequences of the test set.
    """

    num_keys: int = 20
    filler: int = 24
    key_vocab: int = 32
    train_steps: int = 1000
    batch_size: int = 32
    lr: float = 3e-3
    calib_samples: int = 64
    test_samples: int = 256

    @property
    def seq_len(self) -> int:
        return 2 * self.num_keys + self.filler

    def validate(self) -> None:
        for name in ("num_keys", "key_vocab", "train_steps", "batch_size"):
            check_range(name, getattr(self, name), low=1)
        check_range("filler", self.filler, low=2)
        check_positive("lr", self.lr)
        check_range("calib_samples", self.calib_samples, low=1)
        check_range("test_samples", self.test_samples, low=1)
