"""``OttawaConfig``: every option of the aligner, validated on construction."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from papershelf.config import Config, check_choice, check_positive, check_range
from papershelf.errors import UserError

__all__ = [
    "ALIGNMENTS",
    "MIN_PLAIN_REG",
    "NULL_MODES",
    "POOLS",
    "SCALES",
    "SOLVERS",
    "SPLITTERS",
    "WORD_SCORES",
    "OttawaConfig",
    "check_device",
]

SOLVERS = ("batched", "pot", "pot-log", "numpy", "torch", "torch-log")
NULL_MODES = ("adaptive", "median", "deq")
SCALES = ("minmax", "none")
ALIGNMENTS = ("intersect", "forward", "reverse", "union")
POOLS = ("first", "mean")
WORD_SCORES = ("fraction", "raw")
SPLITTERS = ("whitespace", "cjk", "spacy")


def check_device(device: str) -> None:
    """``device``: "cpu", "auto", "cuda" or "cuda:N" (one line otherwise)."""
    import re

    if not isinstance(device, str) or not re.fullmatch(r"cpu|auto|cuda(:\d+)?", device):
        raise UserError(f"device: must be cpu, auto, cuda or cuda:N, got {device!r}")


#: Below this regularisation the multiplicative POT solver underflows (POT issue #723).
MIN_PLAIN_REG = 0.02


@dataclass
class OttawaConfig(Config):
    """Options of OTTAWA (defaults follow the official code's detection setting).

    Attributes:
        reg: entropic regularisation ε of the OT problem (> 0; 0.05 for detection).
        num_iter: maximum solver iterations.
        tol: stopping threshold of the solver.
        solver: "batched" (POT's iteration in torch, many pairs at once: same iterates as
            "pot"), "pot" (POT's entropic partial OT), "pot-log" (its log-domain variant),
            "numpy" (POT's iteration vectorised: same iterates, faster),
            "torch" (scaling loop in float64 torch) or "torch-log" (log-domain loop).
        null_cost: "adaptive" = max(median(C), d_eq), "median", "deq", or a fixed float in [0, 1].
        null_weight: capacity of the null column (>= 0; 1 lets null absorb everything).
        scale: "minmax" rescales the augmented cost to [0, 1]; "none" keeps it.
        alignment: how to combine the two directions' argmax links.
        subword_pool: word vector = "first" sub-token or "mean" of its sub-tokens.
        layer: hidden layer of the encoder (-1 = last).
        word_score: "fraction" (null mass × row count, in [0, 1]) or "raw" (null mass).
        splitter: how a sentence is split into words ("whitespace", "cjk", "spacy").
        device: torch device of the batched solver ("cpu", "cuda", "cuda:N" or "auto").

    A ``reg`` below ``MIN_PLAIN_REG`` with the plain solvers ("batched", "pot", "numpy") warns and
    switches to ``solver="pot-log"``.
    """

    reg: float = 0.05
    num_iter: int = 2000
    tol: float = 1e-6
    solver: str = "batched"
    null_cost: str | float = "adaptive"
    null_weight: float = 1.0
    scale: str = "minmax"
    alignment: str = "intersect"
    subword_pool: str = "first"
    layer: int = -1
    word_score: str = "fraction"
    splitter: str = "whitespace"
    device: str = "cpu"

    def validate(self) -> None:
        # finite and > 0 (inf is refused too: the plan would be uniform)
        check_range("reg", self.reg, low=0, high=math.inf, low_open=True, high_open=True)
        self.reg = float(self.reg)
        check_choice("solver", self.solver, SOLVERS)
        if self.solver in ("batched", "pot", "numpy") and self.reg < MIN_PLAIN_REG:
            warnings.warn(
                f"reg={self.reg} < {MIN_PLAIN_REG} underflows the plain POT solver; "
                "switching to solver='pot-log'",
                stacklevel=4,  # validate <- __post_init__ <- __init__ <- the caller
            )
            self.solver = "pot-log"
        check_range("num_iter", self.num_iter, low=1)
        check_positive("tol", self.tol)
        if isinstance(self.null_cost, str):
            check_choice("null_cost", self.null_cost, NULL_MODES)
        else:
            check_range("null_cost", self.null_cost, low=0.0, high=1.0)
            self.null_cost = float(self.null_cost)
        check_range("null_weight", self.null_weight, low=0, high=math.inf, high_open=True)
        self.null_weight = float(self.null_weight)
        check_choice("scale", self.scale, SCALES)
        check_choice("alignment", self.alignment, ALIGNMENTS)
        check_choice("subword_pool", self.subword_pool, POOLS)
        check_choice("word_score", self.word_score, WORD_SCORES)
        check_choice("splitter", self.splitter, SPLITTERS)
        check_device(self.device)
