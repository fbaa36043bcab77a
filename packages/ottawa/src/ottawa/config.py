"""``OttawaConfig``: every option of the aligner, validated on construction."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import asdict, dataclass, fields
from typing import Any

from papershelf.errors import UserError

SOLVERS = ("pot", "pot-log", "numpy", "torch", "torch-log")
NULL_MODES = ("adaptive", "median", "deq")
SCALES = ("minmax", "none")
ALIGNMENTS = ("intersect", "forward", "reverse", "union")
POOLS = ("first", "mean")
WORD_SCORES = ("fraction", "raw")
SPLITTERS = ("whitespace",)

#: Below this regularisation the multiplicative POT solver underflows (POT issue #723).
MIN_PLAIN_REG = 0.02


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UserError(f"{name}: {value!r} is not allowed; choose from {', '.join(allowed)}")


@dataclass
class OttawaConfig:
    """Options of OTTAWA (defaults follow the official code's detection setting).

    Attributes:
        reg: entropic regularisation ε of the OT problem (> 0; 0.05 for detection).
        num_iter: maximum solver iterations.
        tol: stopping threshold of the solver.
        solver: "pot" (POT's entropic partial OT), "pot-log" (its log-domain variant),
            "numpy" (POT's iteration vectorised: same iterates, faster),
            "torch" (scaling loop in float64 torch) or "torch-log" (log-domain loop).
        null_cost: "adaptive" = max(median(C), d_eq), "median", "deq", or a fixed float in [0, 1].
        null_weight: capacity of the null column (>= 0; 1 lets null absorb everything).
        scale: "minmax" rescales the augmented cost to [0, 1]; "none" keeps it.
        alignment: how to combine the two directions' argmax links.
        subword_pool: word vector = "first" sub-token or "mean" of its sub-tokens.
        layer: hidden layer of the encoder (-1 = last).
        word_score: "fraction" (null mass × row count, in [0, 1]) or "raw" (null mass).
        splitter: how a sentence is split into words.
    """

    reg: float = 0.05
    num_iter: int = 2000
    tol: float = 1e-6
    solver: str = "pot"
    null_cost: str | float = "adaptive"
    null_weight: float = 1.0
    scale: str = "minmax"
    alignment: str = "intersect"
    subword_pool: str = "first"
    layer: int = -1
    word_score: str = "fraction"
    splitter: str = "whitespace"

    def __post_init__(self) -> None:
        reg = float(self.reg)
        if not math.isfinite(reg) or reg <= 0:
            raise UserError(f"reg: must be a finite number > 0, got {self.reg!r}")
        self.reg = reg
        _choice("solver", self.solver, SOLVERS)
        if self.solver in ("pot", "numpy") and reg < MIN_PLAIN_REG:
            warnings.warn(
                f"reg={reg} < {MIN_PLAIN_REG} underflows the plain POT solver; "
                "switching to solver='pot-log'",
                stacklevel=2,
            )
            self.solver = "pot-log"
        if int(self.num_iter) < 1:
            raise UserError(f"num_iter: must be >= 1, got {self.num_iter!r}")
        if not (float(self.tol) > 0):
            raise UserError(f"tol: must be > 0, got {self.tol!r}")
        if isinstance(self.null_cost, str):
            _choice("null_cost", self.null_cost, NULL_MODES)
        else:
            value = float(self.null_cost)
            if not (0.0 <= value <= 1.0):
                raise UserError(
                    f"null_cost: a fixed cost must lie in [0, 1], got {self.null_cost!r}"
                )
            self.null_cost = value
        nw = float(self.null_weight)
        if not math.isfinite(nw) or nw < 0:
            raise UserError(f"null_weight: must be a finite number >= 0, got {self.null_weight!r}")
        self.null_weight = nw
        _choice("scale", self.scale, SCALES)
        _choice("alignment", self.alignment, ALIGNMENTS)
        _choice("subword_pool", self.subword_pool, POOLS)
        _choice("word_score", self.word_score, WORD_SCORES)
        _choice("splitter", self.splitter, SPLITTERS)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> OttawaConfig:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"config: unknown field(s) {unknown}; known: {sorted(known)}")
        return cls(**data)
