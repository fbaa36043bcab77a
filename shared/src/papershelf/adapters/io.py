"""The adapter folder: ``adapter_config.json`` + ``adapter_model.safetensors``, PEFT's layout.

Weights (adapter tensors only, written atomically via :mod:`papershelf.checkpoint`)
    Keys follow PEFT: ``base_model.model.<module path>.<param>``, e.g.
    ``base_model.model.encoder.layer.0.attention.self.query.lora_A.weight``; a module in
    ``modules_to_save`` contributes ``base_model.model.<module path>.<param>`` (its whole
    ``state_dict``).

Config (one flat JSON object, as PEFT's ``adapter_config.json``)
    The metadata keys of :data:`METADATA_KEYS` next to every field of the method's config::

        {"adapter_type": "dylora",            # PEFT's "peft_type": which method wrote it
         "library_version": "0.1.0",          # the method package's version
         "base_model_name_or_path": "...",    # the wrapped model's _name_or_path, or null
         "target_shapes": {"<module>": [out, in], ...},
         "r_max": 8, "alpha": 16.0, ...}      # the config's fields (Config.to_dict())

    A method may record more metadata (krona: ``factor_shapes``); it names those keys in
    ``AdapterModel.metadata_keys``. :func:`split_adapter_config` splits a loaded dict back
    into the config's fields and the metadata, refusing keys that are neither.

Functions
    ``adapter_state_dict(model, modules_to_save=None)``, ``modules_to_save_state_dict(model,
    modules_to_save)``, ``save_adapter(folder, model, config_dict, modules_to_save=None)``,
    ``write_adapter_dir(folder, tensors, config_dict)`` (e.g. an export to PEFT's own format),
    ``read_adapter_config(folder)`` (one-line errors for a missing folder/file or bad JSON),
    ``load_adapter(folder, model, modules_to_save=None)`` (into an already injected model,
    refusing missing/unexpected keys and shape mismatches with one line; returns the config
    dict) and ``split_adapter_config(raw, config_class, extra_keys=(), folder=None)``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from papershelf.adapters.targets import adapter_layers, find_modules_to_save
from papershelf.checkpoint import load_tensors, save_tensors
from papershelf.errors import UserError
from papershelf.io import atomic_write_json

__all__ = [
    "ADAPTER_CONFIG_NAME",
    "ADAPTER_KEY_PREFIX",
    "ADAPTER_WEIGHTS_NAME",
    "METADATA_KEYS",
    "adapter_state_dict",
    "load_adapter",
    "modules_to_save_state_dict",
    "read_adapter_config",
    "save_adapter",
    "split_adapter_config",
    "write_adapter_dir",
]

ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors"
ADAPTER_CONFIG_NAME = "adapter_config.json"
ADAPTER_KEY_PREFIX = "base_model.model."

#: Keys of ``adapter_config.json`` that describe the saved adapter, not the method's config.
#: ``peft_type``, ``task_type``, ``inference_mode`` and ``revision`` are PEFT's and tolerated.
METADATA_KEYS = (
    "adapter_type",
    "library_version",
    "base_model_name_or_path",
    "target_shapes",
    "peft_type",
    "task_type",
    "inference_mode",
    "revision",
)


def modules_to_save_state_dict(
    model: nn.Module, modules_to_save: Sequence[str] | None
) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of each module in ``modules_to_save``, under PEFT key names."""
    out: dict[str, torch.Tensor] = {}
    for name, module in find_modules_to_save(model, modules_to_save).items():
        for key, tensor in module.state_dict().items():
            out[f"{ADAPTER_KEY_PREFIX}{name}.{key}"] = tensor
    return out


def adapter_state_dict(
    model: nn.Module, modules_to_save: Sequence[str] | None = None
) -> dict[str, torch.Tensor]:
    """Adapter (and ``modules_to_save``) tensors under PEFT key names."""
    out: dict[str, torch.Tensor] = {}
    for name, layer in adapter_layers(model).items():
        for key, tensor in layer.adapter_state_dict().items():
            out[f"{ADAPTER_KEY_PREFIX}{name}.{key}"] = tensor
    out.update(modules_to_save_state_dict(model, modules_to_save))
    return out


def save_adapter(
    folder: str | Path,
    model: nn.Module,
    config_dict: dict,
    modules_to_save: Sequence[str] | None = None,
) -> Path:
    """Write ``adapter_model.safetensors`` + ``adapter_config.json`` atomically; return folder."""
    return write_adapter_dir(folder, adapter_state_dict(model, modules_to_save), config_dict)


def write_adapter_dir(
    folder: str | Path, tensors: dict[str, torch.Tensor], config_dict: dict
) -> Path:
    """Write ``tensors`` (PEFT key names) and ``config_dict`` as an adapter folder, atomically."""
    folder = Path(folder)
    save_tensors(folder / ADAPTER_WEIGHTS_NAME, tensors)
    atomic_write_json(folder / ADAPTER_CONFIG_NAME, config_dict)
    return folder


def read_adapter_config(folder: str | Path) -> dict:
    """The JSON config of an adapter folder, with one-line errors for missing/bad files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"adapter dir: {str(folder)!r} is not a folder")
    path = folder / ADAPTER_CONFIG_NAME
    if not path.is_file():
        raise UserError(f"adapter dir: {str(folder)!r} has no {ADAPTER_CONFIG_NAME}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise UserError(
            f"adapter dir: {path} is not valid JSON ({err.msg}, line {err.lineno})"
        ) from None
    if not isinstance(config, dict):
        raise UserError(f"adapter dir: {path} must hold a JSON object")
    return config


def split_adapter_config(
    raw: dict[str, Any],
    config_class: type,
    extra_keys: Iterable[str] = (),
    folder: str | Path | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a flat ``adapter_config.json`` dict into ``(config fields, metadata)``.

    Config fields are the ``__init__`` fields of the dataclass ``config_class``; metadata keys
    are :data:`METADATA_KEYS` plus ``extra_keys``. Any other key is refused (one line, listing
    the known ones), so a typo or a file written for another method never passes silently.
    """
    fields = {f.name for f in dataclasses.fields(config_class) if f.init}
    meta_keys = {*METADATA_KEYS, *extra_keys}
    unknown = sorted(k for k in raw if k not in fields and k not in meta_keys)
    if unknown:
        where = f"{Path(folder) / ADAPTER_CONFIG_NAME}" if folder is not None else "adapter config"
        raise UserError(
            f"adapter dir: {where} has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(fields | meta_keys))}"
        )
    config = {k: v for k, v in raw.items() if k in fields}
    metadata = {k: v for k, v in raw.items() if k not in fields}
    return config, metadata


def load_adapter(
    folder: str | Path, model: nn.Module, modules_to_save: Sequence[str] | None = None
) -> dict:
    """Load adapter weights into an already injected ``model``; return the config dict."""
    config = read_adapter_config(folder)
    path = Path(folder) / ADAPTER_WEIGHTS_NAME
    if not path.is_file():
        raise UserError(f"adapter dir: {str(folder)!r} has no {ADAPTER_WEIGHTS_NAME}")
    loaded = load_tensors(path, "adapter dir")
    expected = adapter_state_dict(model, modules_to_save)
    missing = sorted(set(expected) - set(loaded))
    unexpected = sorted(set(loaded) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s), e.g. {missing[0]!r}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} key(s), e.g. {unexpected[0]!r}")
        raise UserError(f"adapter dir: {path} does not fit this model: {'; '.join(parts)}")
    for key, target in expected.items():
        if tuple(loaded[key].shape) != tuple(target.shape):
            raise UserError(
                f"adapter dir: {key!r} has shape {tuple(loaded[key].shape)} in {path.name}, "
                f"expected {tuple(target.shape)}"
            )
    with torch.no_grad():
        for key, target in expected.items():
            target.copy_(loaded[key])
    return config
