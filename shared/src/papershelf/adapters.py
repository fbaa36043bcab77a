"""Adapter machinery shared by the adapter papers (dylora, krona), in PEFT's conventions.

An adapter method supplies one layer class (a subclass of :class:`AdapterLayer` that wraps a
frozen ``nn.Linear``) and a config; everything else is here:

Target resolution
    ``resolve_target_modules(model, target_modules, exclude_modules=None, modules_to_save=None)
    -> list[str]`` — the dotted names of the ``nn.Linear`` modules to adapt. PEFT semantics:

    * a list of strings matches a module whose name equals an entry or ends with ``"." + entry``
      (``["query", "value"]``);
    * a str is a regex that must ``re.fullmatch`` the whole module name;
    * ``"all-linear"`` is every ``nn.Linear`` except the output head
      (``model.get_output_embeddings()``) and the modules in ``modules_to_save``;
    * ``None`` is the architecture's default from ``DEFAULT_TARGET_MODULES`` (keyed by
      ``model.config.model_type``; an unknown architecture is an error).

    ``exclude_modules`` uses the same list/regex rules. Raises :class:`papershelf.UserError`
    (one line) when nothing matches (listing the ``nn.Linear`` names found, first 20) or when a
    matched module is not ``nn.Linear`` (naming its type, e.g. GPT-2's ``Conv1D``).

Layer protocol
    ``AdapterLayer(base_layer: nn.Linear)`` — an ``nn.Module`` holding the frozen
    ``base_layer`` and the adapter's own parameters. A subclass implements

    * ``adapter_forward(x: (..., in)) -> (..., out)``: the adapter's additive output;
    * ``delta_weight() -> (out, in)``: the same update as a dense matrix (for merging).

    and inherits ``forward(x) = base_layer(x) + adapter_forward(x)`` (just ``base_layer(x)``
    while ``merged`` or ``disabled``), ``merge(safe_merge=False)``, ``unmerge()``,
    ``adapter_state_dict()`` (every parameter not under ``base_layer``, keyed relative to
    the layer, e.g. ``{"lora_A.weight": ..., "lora_B.weight": ...}``) and
    ``load_adapter_state_dict(sd)``. ``in_features``/``out_features`` mirror the base layer.

Wrapper
    ``AdapterModel(model)`` — the base class of a method's PEFT-style wrapper: ``forward`` and
    unknown attributes go to the wrapped ``model`` (so it works in a plain loop and in the HF
    ``Trainer``); ``get_base_model()``, ``trainable_parameter_summary()`` and
    ``print_trainable_parameters()`` are PEFT's.

Model surgery
    ``inject_adapters(model, names, factory) -> dict[str, AdapterLayer]`` replaces each named
    ``nn.Linear`` in place by ``factory(name, linear)``.
    ``adapter_layers(model) -> dict[str, AdapterLayer]`` finds them again (by dotted name).
    ``mark_only_adapters_trainable(model, modules_to_save=None)`` freezes everything except
    the adapter parameters and the modules named in ``modules_to_save`` (suffix match).
    ``trainable_parameter_summary(model) -> ParameterSummary(trainable, total)``; its ``str``
    is PEFT's ``trainable params: ... || all params: ... || trainable%: ...`` line.
    ``disabled_adapters(modules)`` is a context manager that sets each module's ``disabled``
    flag (the base model's outputs) and clears it on exit.
    ``merge_and_unload(model) -> model`` merges every adapter layer and replaces it by its
    (merged) plain ``nn.Linear``; ``unload(model)`` replaces it by the unmerged base layer.

Saving (adapter weights only, safetensors + JSON, atomic via :mod:`papershelf.checkpoint`)
    Keys follow PEFT: ``base_model.model.<module path>.<param>``, e.g.
    ``base_model.model.encoder.layer.0.attention.self.query.lora_A.weight``; a module in
    ``modules_to_save`` contributes ``base_model.model.<module path>.<param>``.

    * ``adapter_state_dict(model, modules_to_save=None) -> dict[str, Tensor]``;
    * ``target_shapes(model) -> {name: [out, in]}`` of every adapter layer's base layer, and
      ``check_target_shapes(model, recorded)`` which raises naming the module and both shapes;
    * ``save_adapter(folder, model, config_dict, modules_to_save=None) -> Path`` writes
      ``adapter_model.safetensors`` and ``adapter_config.json`` (``config_dict`` as is);
      ``write_adapter_dir(folder, tensors, config_dict)`` writes given tensors the same way
      (e.g. an export to another adapter format);
    * ``read_adapter_config(folder) -> dict`` (clear error for a missing folder/file);
    * ``load_adapter(folder, model, modules_to_save=None) -> dict`` loads the weights into an
      already injected model, refusing missing/unexpected keys and shape mismatches with one
      line, and returns the config dict.

Torch is imported here only; ``import papershelf`` stays light.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from papershelf.checkpoint import load_tensors, save_tensors
from papershelf.errors import UserError
from papershelf.io import atomic_write_json

__all__ = [
    "ADAPTER_CONFIG_NAME",
    "ADAPTER_KEY_PREFIX",
    "ADAPTER_WEIGHTS_NAME",
    "DEFAULT_TARGET_MODULES",
    "AdapterLayer",
    "AdapterModel",
    "ParameterSummary",
    "adapter_layers",
    "adapter_state_dict",
    "check_target_shapes",
    "disabled_adapters",
    "inject_adapters",
    "load_adapter",
    "mark_only_adapters_trainable",
    "merge_and_unload",
    "name_matches",
    "read_adapter_config",
    "resolve_target_modules",
    "save_adapter",
    "target_shapes",
    "trainable_parameter_summary",
    "unload",
    "write_adapter_dir",
]

ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors"
ADAPTER_CONFIG_NAME = "adapter_config.json"
ADAPTER_KEY_PREFIX = "base_model.model."

#: Attention query/value projections per ``config.model_type`` (PEFT's LoRA defaults).
DEFAULT_TARGET_MODULES: dict[str, list[str]] = {
    "bert": ["query", "value"],
    "roberta": ["query", "value"],
    "xlm-roberta": ["query", "value"],
    "electra": ["query", "value"],
    "camembert": ["query", "value"],
    "deberta": ["in_proj"],
    "deberta-v2": ["query_proj", "value_proj"],
    "distilbert": ["q_lin", "v_lin"],
    "mpnet": ["q", "v"],
    "t5": ["q", "v"],
    "mt5": ["q", "v"],
    "bart": ["q_proj", "v_proj"],
    "opt": ["q_proj", "v_proj"],
    "llama": ["q_proj", "v_proj"],
    "mistral": ["q_proj", "v_proj"],
    "qwen2": ["q_proj", "v_proj"],
    "gemma": ["q_proj", "v_proj"],
    "phi": ["q_proj", "v_proj"],
    "gpt2": ["c_attn"],
    "gpt_neox": ["query_key_value"],
    "gptj": ["q_proj", "v_proj"],
}

_LIST_LIMIT = 20


class AdapterLayer(nn.Module):
    """Base class of an adapter wrapping a frozen ``nn.Linear`` (``base_layer``).

    Subclasses add their parameters in ``__init__`` (after ``super().__init__(base_layer)``)
    and implement :meth:`adapter_forward` and :meth:`delta_weight`.
    """

    def __init__(self, base_layer: nn.Linear) -> None:
        super().__init__()
        if not isinstance(base_layer, nn.Linear):
            raise UserError(
                f"base_layer: only nn.Linear can be adapted, got {type(base_layer).__name__}"
            )
        self.base_layer = base_layer
        self.merged = False
        self.disabled = False
        for p in base_layer.parameters():
            p.requires_grad_(False)

    @property
    def in_features(self) -> int:
        return self.base_layer.in_features

    @property
    def out_features(self) -> int:
        return self.base_layer.out_features

    @property
    def weight(self) -> torch.Tensor:
        """The base layer's weight ``(out, in)`` (merged weight while ``merged``)."""
        return self.base_layer.weight

    @property
    def bias(self) -> torch.Tensor | None:
        return self.base_layer.bias

    def adapter_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The adapter's additive output, ``x: (..., in) -> (..., out)``."""
        raise NotImplementedError

    def delta_weight(self) -> torch.Tensor:
        """The adapter's update as a dense ``(out, in)`` matrix: forward == base + x @ ΔW.T."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base_layer(x)
        if self.merged or self.disabled:
            return out
        return out + self.adapter_forward(x).to(out.dtype)

    @torch.no_grad()
    def merge(self, safe_merge: bool = False) -> None:
        """Add ``delta_weight()`` into the base weight; with ``safe_merge`` refuse non-finite."""
        if self.merged:
            raise UserError("merge: this adapter layer is already merged; call unmerge() first")
        weight = self.base_layer.weight
        delta = self.delta_weight().to(weight.dtype)
        if safe_merge:
            merged = weight + delta
            if not torch.isfinite(merged).all():
                raise UserError("merge: the merged weight has NaN/inf values; adapter is broken")
            weight.copy_(merged)
        else:
            weight.add_(delta)
        self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Subtract the merged update again (restores the base weight to fp tolerance)."""
        if not self.merged:
            raise UserError("unmerge: this adapter layer is not merged")
        weight = self.base_layer.weight
        weight.sub_(self.delta_weight().to(weight.dtype))
        self.merged = False

    def adapter_state_dict(self) -> dict[str, torch.Tensor]:
        """Every parameter outside ``base_layer``, keyed relative to this layer."""
        return {
            name: p for name, p in self.named_parameters() if not name.startswith("base_layer.")
        }

    @torch.no_grad()
    def load_adapter_state_dict(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Copy tensors (keys as in :meth:`adapter_state_dict`) into this layer's parameters."""
        own = self.adapter_state_dict()
        for key, value in state_dict.items():
            if key not in own:
                raise UserError(f"adapter weights: unexpected key {key!r} for this layer")
            if tuple(own[key].shape) != tuple(value.shape):
                raise UserError(
                    f"adapter weights: {key!r} has shape {tuple(value.shape)}, "
                    f"expected {tuple(own[key].shape)}"
                )
            own[key].copy_(value)


class AdapterModel(nn.Module):
    """A wrapped model with adapter layers injected (in place) into ``self.model``.

    ``forward`` and attributes this class does not define are the wrapped model's.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "model":
                raise
            return getattr(self.model, name)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)

    def get_base_model(self) -> nn.Module:
        return self.model

    def trainable_parameter_summary(self) -> ParameterSummary:
        return trainable_parameter_summary(self.model)

    def print_trainable_parameters(self) -> None:
        """Print PEFT's ``trainable params: ... || all params: ... || trainable%: ...`` line."""
        print(self.trainable_parameter_summary())


@dataclass(frozen=True)
class ParameterSummary:
    """Trainable vs total parameter counts (shared tensors counted once)."""

    trainable: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.trainable / self.total if self.total else 0.0

    def __str__(self) -> str:
        return (
            f"trainable params: {self.trainable:,} || all params: {self.total:,} "
            f"|| trainable%: {self.percent:.4f}"
        )


def name_matches(name: str, patterns: str | Sequence[str]) -> bool:
    """PEFT matching: a str is a full-match regex; a list matches equal names or '.suffix'."""
    if isinstance(patterns, str):
        return re.fullmatch(patterns, name) is not None
    return any(name == p or name.endswith("." + p) for p in patterns)


def _check_patterns(field: str, patterns: object) -> None:
    if patterns is None or isinstance(patterns, str):
        return
    if not isinstance(patterns, list | tuple) or not all(isinstance(p, str) for p in patterns):
        raise UserError(
            f"{field}: expected a list of module-name suffixes, a regex string or None, "
            f"got {patterns!r}"
        )
    if len(patterns) == 0:
        raise UserError(f"{field}: the list is empty; name at least one module")


def _linear_names(model: nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if isinstance(m, nn.Linear) and n]


def _head_ids(model: nn.Module) -> set[int]:
    getter = getattr(model, "get_output_embeddings", None)
    if getter is None:
        return set()
    try:
        head = getter()
    except (AttributeError, NotImplementedError):
        return set()
    return {id(head)} if isinstance(head, nn.Module) else set()


def resolve_target_modules(
    model: nn.Module,
    target_modules: str | Sequence[str] | None,
    exclude_modules: str | Sequence[str] | None = None,
    modules_to_save: Sequence[str] | None = None,
) -> list[str]:
    """Dotted names of the ``nn.Linear`` modules to adapt (rules in the module docstring)."""
    _check_patterns("target_modules", target_modules)
    _check_patterns("exclude_modules", exclude_modules)
    if target_modules is None:
        model_type = getattr(getattr(model, "config", None), "model_type", None)
        if model_type not in DEFAULT_TARGET_MODULES:
            raise UserError(
                f"target_modules: None has no default for model_type {model_type!r}; pass a "
                "list of module-name suffixes, a regex, or 'all-linear'"
            )
        target_modules = DEFAULT_TARGET_MODULES[model_type]
    save = list(modules_to_save or [])
    all_linear = target_modules == "all-linear"
    heads = _head_ids(model) if all_linear else set()
    names: list[str] = []
    for name, module in model.named_modules():
        if not name:
            continue
        if all_linear:
            if not isinstance(module, nn.Linear) or id(module) in heads:
                continue
            if save and name_matches(name, save):
                continue
        elif not name_matches(name, target_modules):
            continue
        if exclude_modules is not None and name_matches(name, exclude_modules):
            continue
        if isinstance(module, AdapterLayer):
            raise UserError(f"target_modules: {name!r} already holds an adapter")
        if not isinstance(module, nn.Linear):
            raise UserError(
                f"target_modules: {name!r} is a {type(module).__name__}, not nn.Linear; "
                "only nn.Linear layers can be adapted"
            )
        names.append(name)
    if not names:
        found = _linear_names(model)
        shown = ", ".join(found[:_LIST_LIMIT]) + (" ..." if len(found) > _LIST_LIMIT else "")
        raise UserError(
            f"target_modules: {target_modules!r} matched no nn.Linear module; "
            f"nn.Linear modules found: {shown or 'none'}"
        )
    return names


def _set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def inject_adapters(
    model: nn.Module,
    names: Iterable[str],
    factory: Callable[[str, nn.Linear], AdapterLayer],
) -> dict[str, AdapterLayer]:
    """Replace each named ``nn.Linear`` in place by ``factory(name, linear)``."""
    layers: dict[str, AdapterLayer] = {}
    for name in names:
        base = model.get_submodule(name)
        if not isinstance(base, nn.Linear):
            raise UserError(f"target_modules: {name!r} is a {type(base).__name__}, not nn.Linear")
        layer = factory(name, base)
        if not isinstance(layer, AdapterLayer):
            raise TypeError(f"factory must return an AdapterLayer, got {type(layer).__name__}")
        _set_submodule(model, name, layer)
        layers[name] = layer
    return layers


def adapter_layers(model: nn.Module) -> dict[str, AdapterLayer]:
    """Every :class:`AdapterLayer` in ``model``, by dotted name."""
    return {n: m for n, m in model.named_modules() if isinstance(m, AdapterLayer)}


def _modules_to_save(model: nn.Module, patterns: Sequence[str] | None) -> dict[str, nn.Module]:
    if not patterns:
        return {}
    found = {
        n: m
        for n, m in model.named_modules()
        if n and name_matches(n, list(patterns)) and not isinstance(m, AdapterLayer)
    }
    missing = [p for p in patterns if not any(name_matches(n, [p]) for n in found)]
    if missing:
        raise UserError(f"modules_to_save: {missing!r} matched no module of the model")
    # Drop modules nested inside another matched module (their parameters are covered).
    return {n: m for n, m in found.items() if not any(n.startswith(o + ".") for o in found)}


def mark_only_adapters_trainable(
    model: nn.Module, modules_to_save: Sequence[str] | None = None
) -> None:
    """Freeze every parameter except the adapters' own and those of ``modules_to_save``."""
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in adapter_layers(model).values():
        for p in layer.adapter_state_dict().values():
            p.requires_grad_(True)
    for module in _modules_to_save(model, modules_to_save).values():
        for p in module.parameters():
            p.requires_grad_(True)


def trainable_parameter_summary(model: nn.Module) -> ParameterSummary:
    """Count trainable and total parameters (each shared tensor once)."""
    seen: set[int] = set()
    trainable = total = 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return ParameterSummary(trainable=trainable, total=total)


@contextlib.contextmanager
def disabled_adapters(modules: Iterable[nn.Module]) -> Iterator[None]:
    """Within the block each module's ``disabled`` flag is set: it computes its base output."""
    modules = list(modules)
    for module in modules:
        module.disabled = True
    try:
        yield
    finally:
        for module in modules:
            module.disabled = False


def merge_and_unload(model: nn.Module) -> nn.Module:
    """Merge every adapter layer and replace it by its plain (merged) ``nn.Linear``."""
    for name, layer in adapter_layers(model).items():
        if not layer.merged:
            layer.merge()
        _set_submodule(model, name, layer.base_layer)
    return model


def unload(model: nn.Module) -> nn.Module:
    """Replace every adapter layer by its original, unmerged ``nn.Linear``."""
    for name, layer in adapter_layers(model).items():
        if layer.merged:
            layer.unmerge()
        _set_submodule(model, name, layer.base_layer)
    return model


def adapter_state_dict(
    model: nn.Module, modules_to_save: Sequence[str] | None = None
) -> dict[str, torch.Tensor]:
    """Adapter (and ``modules_to_save``) tensors under PEFT key names."""
    out: dict[str, torch.Tensor] = {}
    for name, layer in adapter_layers(model).items():
        for key, tensor in layer.adapter_state_dict().items():
            out[f"{ADAPTER_KEY_PREFIX}{name}.{key}"] = tensor
    for name, module in _modules_to_save(model, modules_to_save).items():
        for key, tensor in module.state_dict().items():
            out[f"{ADAPTER_KEY_PREFIX}{name}.{key}"] = tensor
    return out


def target_shapes(model: nn.Module) -> dict[str, list[int]]:
    """``{name: [out_features, in_features]}`` of every adapter layer's base layer."""
    return {n: [m.out_features, m.in_features] for n, m in adapter_layers(model).items()}


def check_target_shapes(model: nn.Module, recorded: dict[str, Sequence[int]]) -> None:
    """Refuse a base model whose target layers differ from those an adapter was saved for."""
    for name, shape in recorded.items():
        try:
            module = model.get_submodule(name)
        except AttributeError:
            raise UserError(
                f"adapter: module {name!r} recorded in {ADAPTER_CONFIG_NAME} does not exist in "
                "this base model (was the adapter saved for another model?)"
            ) from None
        if isinstance(module, AdapterLayer):
            module = module.base_layer
        if not isinstance(module, nn.Linear):
            raise UserError(
                f"adapter: module {name!r} is a {type(module).__name__} in this base model, "
                "not nn.Linear"
            )
        here = [module.out_features, module.in_features]
        if list(shape) != here:
            raise UserError(
                f"adapter: module {name!r} has shape (out, in)={tuple(here)} in this base model "
                f"but {tuple(shape)} in the adapter (saved for another model?)"
            )


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
