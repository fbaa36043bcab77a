"""``KronAConfig``: every option of a KronA adapter, validated on construction.

The factor-shape rule (``shapes="auto"``): for a layer of weight ``(d_out, d_in)``,
``(a1, b1) = factorization(d_out, factor)`` and ``(a2, b2) = factorization(d_in, factor)``,
i.e. ``A = (a1, a2)`` holds the smaller part of each split and ``B = (b1, b2)`` the larger,
as PEFT LoKr's ``w1``/``w2``. With ``factor = -1`` each split is the divisor pair closest
to the square root (384 → 16·24, 768 → 24·32), so a ``d×d`` layer costs about ``2d``
parameters, LoRA's budget at rank 1.
"""

from __future__ import annotations

import fnmatch
import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from papershelf.config import Config, check_choice, check_range
from papershelf.errors import UserError

from krona.errors import KronAError
from krona.functional import Shapes, divisor_pairs, factorization

VARIANTS = ("linear", "block", "block_res")
VARIANT_ALIASES = {"krona": "linear", "krona_b": "block", "krona_b_res": "block_res"}
INITS = ("zero_A", "zero_B")
ORDERS = ("auto", "A_first", "B_first")
DEFAULT_TARGETS = ("query", "value")

__all__ = ["KronAConfig", "name_matches", "parse_shapes"]


def name_matches(name: str, pattern: str) -> bool:
    """A ``shapes`` key matches a dotted module name exactly, as a dotted suffix, or as a glob.

    Only for the keys of ``KronAConfig.shapes``; ``target_modules``/``exclude_modules`` follow
    the one rule of :func:`papershelf.adapters.name_matches` (PEFT's).
    """
    return name == pattern or name.endswith("." + pattern) or fnmatch.fnmatchcase(name, pattern)


def parse_shapes(text: str) -> str | dict[str, dict[str, tuple[int, int]]]:
    """Parse the CLI form ``"auto"`` or ``"A=16x16,B=24x24"`` (applied to every target)."""
    if text.strip() == "auto":
        return "auto"
    parts = dict(p.split("=", 1) for p in text.replace(" ", "").split(",") if "=" in p)
    try:
        shape = {k: tuple(int(v) for v in parts[k].lower().split("x")) for k in ("A", "B")}
    except (KeyError, ValueError):
        raise KronAError(f"shapes: {text!r} is not 'auto' or like 'A=16x16,B=24x24'") from None
    if any(len(s) != 2 for s in shape.values()):
        raise KronAError(f"shapes: {text!r} is not 'auto' or like 'A=16x16,B=24x24'")
    return {"*": shape}  # type: ignore[dict-item]


def _as_pair(value: Any, what: str) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise KronAError(f"shapes: {what} must be two positive integers, got {value!r}") from None
    if a < 1 or b < 1:
        raise KronAError(f"shapes: {what} must be two positive integers, got {value!r}")
    return (a, b)


@dataclass
class KronAConfig(Config):
    """Configuration of a KronA adapter (``ΔW = s·(A⊗B)``; arXiv 2212.10650, Eq. for KronA).

    Attributes:
        variant: ``"linear"`` (KronA, parallel to each target ``nn.Linear``), ``"block"``
            (KronA^B, parallel to each FFN block) or ``"block_res"`` (KronA^B_res, plus
            ``res_scale·X``). The issue's names ``"krona"``, ``"krona_b"``, ``"krona_b_res"``
            are accepted and normalised.
        scale: the fixed scalar ``s``; finite and non-zero.
        res_scale: ``s_res`` of ``block_res`` at the start of training; finite. The default
            0 makes ``block_res`` start at the pretrained function (``FFN(X)``; with
            ``s_res = 1`` it would start at ``FFN(X) + X``, not the pretrained model).
        res_scale_trainable: make ``s_res`` a trained parameter; ``None`` (default): trained
            for ``block_res`` (the residual is learnable, as the secondary sources describe
            it); ``True`` is refused for the other variants, which have no residual.
        shapes: ``"auto"`` (the rule in this module's docstring) or
            ``{pattern: {"A": (a1, a2), "B": (b1, b2)}}``; the first matching pattern wins,
            unmatched modules fall back to ``"auto"``.
        factor: PEFT ``decompose_factor``: ``-1`` (√ split) or ``f > 0`` dividing both dims.
        init: ``"zero_A"`` (A = 0, B Kaiming-uniform; PEFT LoKr's default) or ``"zero_B"``.
        matmul_order: ``"auto"`` (cheaper), ``"A_first"`` or ``"B_first"``.
        target_modules: the ``nn.Linear``/``Conv1D`` layers to adapt (``linear``; default
            ``["query", "value"]``) or the FFN owners (block variants; default from the
            architecture map), by PEFT's rule, the one of every papershelf adapter
            (:func:`papershelf.adapters.name_matches`): a list holds names or dotted suffixes,
            a string is one full-match regex (``".*attention.*(query|value)"``). A string is never
            split on commas (krona <= 0.1.0 did; the CLI's ``--target-modules a,b`` still does,
            as its list syntax).
        exclude_modules: module names never adapted (the same rule as ``target_modules``).
        modules_to_save: patterns of modules trained in full and saved (e.g. ``classifier``).
        dropout: dropout on the adapter's input, in ``[0, 1)``.
        ffn_taps: block variants only: ``[(input, output)]`` child paths of each FFN owner,
            e.g. ``[("intermediate", "output.dense")]`` for BERT; ``None`` uses the map.

    A bad value raises :class:`KronAError` (a ``papershelf.UserError``) with one line naming
    the field. ``to_dict``/``from_dict``/``to_json``/``from_json`` come from
    :class:`papershelf.config.Config` (unknown keys are refused with the known ones).
    """

    variant: str = "linear"
    scale: float = 1.0
    res_scale: float = 0.0
    res_scale_trainable: bool | None = None
    shapes: str | dict[str, dict[str, tuple[int, int]]] = "auto"
    factor: int = -1
    init: str = "zero_A"
    matmul_order: str = "auto"
    target_modules: list[str] | str | None = None
    exclude_modules: list[str] | str | None = None
    modules_to_save: list[str] | None = None
    dropout: float = 0.0
    ffn_taps: list[tuple[str, str]] | None = None
    #: the method's name; ``adapter_config.json`` records it (metadata, not a field)
    adapter_type: ClassVar[str] = "krona"

    def validate(self) -> None:
        """Check and normalise every field; a bad one raises :class:`KronAError`."""
        try:
            self._validate()
        except KronAError:
            raise
        except UserError as exc:  # papershelf.config's checks: keep the package's error class
            raise KronAError(str(exc)) from None

    @classmethod
    def from_dict(cls, data: Any) -> KronAConfig:
        """:meth:`papershelf.config.Config.from_dict`; also takes krona 0.1.0's ``to_dict``
        output, which carried ``adapter_type`` (now metadata) among the fields."""
        if isinstance(data, dict) and data.get("adapter_type") == cls.adapter_type:
            data = {k: v for k, v in data.items() if k != "adapter_type"}
        return super().from_dict(data)

    @property
    def resolved_res_scale_trainable(self) -> bool:
        """Whether ``s_res`` is trained: ``res_scale_trainable``, or ``True`` for
        ``block_res`` when it is ``None``."""
        if self.res_scale_trainable is None:
            return self.variant == "block_res"
        return bool(self.res_scale_trainable)

    def _validate(self) -> None:
        self.variant = VARIANT_ALIASES.get(self.variant, self.variant)
        check_choice("variant", self.variant, [*VARIANTS, *VARIANT_ALIASES])
        for name in ("scale", "res_scale"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise KronAError(f"{name}: must be a finite number, got {value!r}")
            setattr(self, name, float(value))
        if self.scale == 0:
            raise KronAError("scale: must be non-zero (s = 0 switches the adapter off)")
        check_choice("init", self.init, INITS)
        check_choice("matmul_order", self.matmul_order, ORDERS)
        if not isinstance(self.factor, int) or (self.factor != -1 and self.factor < 1):
            raise KronAError(
                f"factor: must be -1 (square-root split) or a positive integer, got {self.factor!r}"
            )
        check_range("dropout", self.dropout, low=0.0, high=1.0, high_open=True)
        if self.res_scale_trainable not in (None, True, False):
            raise KronAError(
                f"res_scale_trainable: must be true, false or null, got {self.res_scale_trainable!r}"
            )
        if self.res_scale_trainable and self.variant != "block_res":
            raise KronAError(
                "res_scale_trainable: only the 'block_res' variant has a residual scale"
            )
        self.target_modules = _as_targets(self.target_modules, "target_modules")
        self.exclude_modules = _as_targets(self.exclude_modules, "exclude_modules")
        self.modules_to_save = _as_patterns(self.modules_to_save, "modules_to_save")
        if self.variant == "linear" and self.target_modules is None:
            self.target_modules = list(DEFAULT_TARGETS)
        self.shapes = self._check_shapes(self.shapes)
        if self.ffn_taps is not None:
            taps = []
            for tap in self.ffn_taps:
                if isinstance(tap, str) or len(tap) != 2:
                    raise KronAError(
                        f"ffn_taps: each tap is an (input, output) pair of child paths, got {tap!r}"
                    )
                taps.append((str(tap[0]), str(tap[1])))
            self.ffn_taps = taps

    @staticmethod
    def _check_shapes(shapes: Any) -> str | dict[str, dict[str, tuple[int, int]]]:
        if shapes == "auto":
            return "auto"
        if isinstance(shapes, str):
            return parse_shapes(shapes)
        if not isinstance(shapes, dict):
            raise KronAError(
                f"shapes: must be 'auto' or {{pattern: {{'A': (a1, a2), 'B': (b1, b2)}}}}, got {shapes!r}"
            )
        out = {}
        for pattern, spec in shapes.items():
            if not isinstance(spec, dict) or set(spec) != {"A", "B"}:
                raise KronAError(
                    f"shapes[{pattern!r}]: must be {{'A': (a1, a2), 'B': (b1, b2)}}, got {spec!r}"
                )
            out[str(pattern)] = {k: _as_pair(spec[k], f"{pattern}.{k}") for k in ("A", "B")}
        return out

    def shapes_for(self, name: str, d_out: int, d_in: int) -> Shapes:
        """The validated factor shapes ``((a1, a2), (b1, b2))`` of module ``name``."""
        if isinstance(self.shapes, dict):
            for pattern, spec in self.shapes.items():
                if name_matches(name, pattern):
                    shapes = (spec["A"], spec["B"])
                    (a1, a2), (b1, b2) = shapes
                    if a1 * b1 != d_out or a2 * b2 != d_in:
                        raise KronAError(
                            f"shapes: {name} has (d_out, d_in) = ({d_out}, {d_in}) but A={a1}x{a2}, "
                            f"B={b1}x{b2} give ({a1 * b1}, {a2 * b2}); need a1*b1 = {d_out} "
                            f"(pairs {_pairs(d_out)}) and a2*b2 = {d_in} (pairs {_pairs(d_in)})"
                        )
                    return shapes
        return self._auto_shapes(name, d_out, d_in)

    def _auto_shapes(self, name: str, d_out: int, d_in: int) -> Shapes:
        f = self.factor
        if f > 0:
            for dim, d in (("d_out", d_out), ("d_in", d_in)):
                if d % f:
                    raise KronAError(
                        f"factor: {f} does not divide {name}'s {dim} = {d}; use -1 or a divisor of both"
                    )
        (a1, b1), (a2, b2) = factorization(d_out, f), factorization(d_in, f)
        for dim, d, small in (("d_out", d_out, a1), ("d_in", d_in, a2)):
            if small < 2:
                raise KronAError(
                    f"shapes: 'auto' cannot split {name}'s {dim} = {d} into two factors >= 2 "
                    f"(prime or degenerate); give shapes for {name} explicitly"
                )
        return ((a1, a2), (b1, b2))


def _pairs(n: int) -> str:
    return ", ".join(f"{a}x{b}" for a, b in divisor_pairs(n))


def _as_targets(value: Any, name: str) -> list[str] | str | None:
    """PEFT's target value: None, a full-match regex (kept as a str) or a list of names."""
    if isinstance(value, str):
        try:
            re.compile(value)
        except re.error as err:
            raise KronAError(
                f"{name}: {value!r} is not a valid regex ({err}); a string is a full-match "
                "regex, a list holds module-name suffixes"
            ) from None
        if not value:
            raise KronAError(f"{name}: must name at least one module pattern, or be None")
        return value
    return _as_patterns(value, name)


def _as_patterns(value: Any, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    value = [str(v) for v in value]
    if not value:
        raise KronAError(f"{name}: must name at least one module pattern, or be None")
    return value
