"""A base for validated config dataclasses, with one set of rules for every package.

A package config is a ``@dataclass`` that subclasses :class:`Config` and checks its fields
in ``validate()``::

    @dataclass
    class KronAConfig(Config):
        rank: int = 8
        variant: str = "krona"

        def validate(self) -> None:
            check_range("rank", self.rank, low=1)
            check_choice("variant", self.variant, ("krona", "krona_b", "krona_b_res"))

What every config gets:

- ``to_dict()`` / ``from_dict(d)``: a JSON-ready dict and back. Unknown keys are refused
  with the list of known ones (a typo never passes silently); tuples, nested configs and
  ``Path`` fields are rebuilt from their JSON forms.
- ``to_json(path)`` (atomic) / ``from_json(path)``, and ``replace(**changes)``.
- Errors are :class:`papershelf.errors.UserError` with one line: ``field: must be ..., got ...``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

from papershelf.errors import UserError

__all__ = [
    "Config",
    "check_choice",
    "check_positive",
    "check_range",
]


def check_choice(field: str, value: Any, allowed: Iterable[Any]) -> None:
    """Refuse ``value`` unless it is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        shown = ", ".join(repr(a) if isinstance(a, str) else str(a) for a in allowed)
        raise UserError(f"{field}: must be one of {shown}; got {value!r}")


def check_range(
    field: str,
    value: float,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Refuse ``value`` outside ``[low, high]`` (``low_open``/``high_open`` exclude an end).

    NaN is always refused; ``None`` bounds are unbounded.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"{field}: must be a number, got {value!r}")
    bad = value != value  # NaN
    if low is not None:
        bad = bad or (value <= low if low_open else value < low)
    if high is not None:
        bad = bad or (value >= high if high_open else value > high)
    if bad:
        parts = []
        if low is not None:
            parts.append(f"{'>' if low_open else '>='} {low}")
        if high is not None:
            parts.append(f"{'<' if high_open else '<='} {high}")
        rule = " and ".join(parts)
        raise UserError(f"{field}: must be {rule or 'a number'}, got {value!r}")


def check_positive(field: str, value: float) -> None:
    """Refuse ``value <= 0`` and infinity."""
    check_range(field, value, low=0, low_open=True)
    if value == float("inf"):
        raise UserError(f"{field}: must be a finite number > 0, got {value!r}")


@dataclasses.dataclass
class Config:
    """Base of every config dataclass: validation on construction and JSON round trips."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the fields; raise :class:`UserError` with one line naming the field."""

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-ready values (tuples as lists, paths as strings, nested configs as dicts)."""
        return {f.name: _to_json(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from ``to_dict()``'s form; unknown keys are refused with the known ones."""
        if not isinstance(data, Mapping):
            raise UserError(
                f"{cls.__name__}: expected a mapping of fields, got {type(data).__name__}"
            )
        known = {f.name: f for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise UserError(
                f"{cls.__name__}: unknown field(s) {', '.join(unknown)}; "
                f"known fields: {', '.join(known)}"
            )
        hints = typing.get_type_hints(cls)
        return cls(**{k: _from_json(hints.get(k, Any), v) for k, v in data.items()})

    def to_json(self, path: str | Path) -> Path:
        """Write ``to_dict()`` to ``path`` atomically; returns the path."""
        from papershelf.io import atomic_write_json

        path = Path(path)
        atomic_write_json(path, self.to_dict())
        return path

    @classmethod
    def from_json(cls, path: str | Path) -> Self:
        """Read a config written by ``to_json``; a missing or malformed file is one clear error."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"config: {path} does not exist")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise UserError(
                f"config: {path} is not valid JSON ({exc.msg}, line {exc.lineno})"
            ) from None
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)


def _to_json(value: Any) -> Any:
    if isinstance(value, Config):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def _from_json(hint: Any, value: Any) -> Any:
    """Rebuild ``value`` for a field annotated ``hint`` (tuples, nested configs, paths)."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _from_json(options[0], value) if len(options) == 1 else value
    if isinstance(hint, type) and issubclass(hint, Config) and isinstance(value, Mapping):
        return hint.from_dict(value)
    if isinstance(hint, type) and issubclass(hint, Path) and isinstance(value, str):
        return Path(value)
    if (origin is tuple or hint is tuple) and isinstance(value, list):
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_json(args[0], v) for v in value)
        if args and len(args) == len(value):
            return tuple(_from_json(a, v) for a, v in zip(args, value, strict=True))
        return tuple(value)
    return value
