"""Weights as safetensors beside a JSON config, written atomically and loaded with checks.

A checkpoint folder holds ``<name>.safetensors`` and ``<name>_config.json``. Both files
are written to temporary names and renamed into place, so a crash mid-write leaves the
previous checkpoint intact. Nothing here unpickles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from papershelf.errors import UserError
from papershelf.io import atomic_write, atomic_write_json


def weights_path(folder: str | Path, name: str = "model") -> Path:
    return Path(folder) / f"{name}.safetensors"


def config_path(folder: str | Path, name: str = "model") -> Path:
    return Path(folder) / f"{name}_config.json"


def save_tensors(path: str | Path, tensors: Mapping[str, Any]) -> Path:
    """Write ``tensors`` (name -> tensor) to one safetensors file, atomically.

    Tensors are copied to CPU as contiguous, unshared copies (safetensors refuses shared
    memory); the file carries ``{"format": "pt"}`` metadata as transformers and PEFT expect.
    """
    from safetensors.torch import save_file

    copies = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    return atomic_write(path, lambda tmp: save_file(copies, str(tmp), metadata={"format": "pt"}))


def load_tensors(path: str | Path, what: str = "checkpoint", device: str = "cpu") -> dict:
    """Read a safetensors file; a missing or corrupt file is a one-line ``UserError``
    that starts with ``what``."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what}: no {path.name} in {path.parent}")
    try:
        return load_file(str(path), device=device)
    except (SafetensorError, OSError) as exc:
        raise UserError(f"{what}: {path} is not a valid safetensors file ({exc})") from None


def save_weights(
    folder: str | Path,
    state_dict: Mapping[str, Any],
    config: dict[str, Any] | None = None,
    name: str = "model",
) -> Path:
    """Write ``state_dict`` (name -> tensor) and ``config`` atomically into ``folder``.

    Tensors are made contiguous and copied to CPU; tensors that share memory are
    cloned so safetensors accepts them. Returns the weights path.
    """
    path = save_tensors(weights_path(folder, name), state_dict)
    if config is not None:
        atomic_write_json(config_path(folder, name), config)
    return path


def load_config(folder: str | Path, name: str = "model") -> dict[str, Any] | None:
    """The JSON config saved beside ``<name>.safetensors``, or ``None`` if there is none
    (so a caller can build the model before loading the weights)."""
    cpath = config_path(folder, name)
    if not cpath.is_file():
        return None
    try:
        return json.loads(cpath.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(
            f"checkpoint: {cpath} is not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None


def load_weights(
    folder: str | Path,
    name: str = "model",
    expected_keys: Iterable[str] | None = None,
    device: str = "cpu",
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Load ``(state_dict, config)`` from ``folder``; the config is ``None`` if absent.

    Raises:
        UserError: the folder or weights file is missing, the file is not valid
            safetensors, the config is not valid JSON, or the keys differ from
            ``expected_keys`` (the message lists what is missing and unexpected).
    """
    folder = Path(folder)
    path = weights_path(folder, name)
    state = load_tensors(path, "checkpoint", device)
    config = load_config(folder, name)
    if expected_keys is not None:
        expected = set(expected_keys)
        missing, unexpected = sorted(expected - state.keys()), sorted(state.keys() - expected)
        if missing or unexpected:
            raise UserError(
                f"checkpoint: {path.name} does not match the model: missing {missing[:5]}, unexpected {unexpected[:5]}"
            )
    return state, config
