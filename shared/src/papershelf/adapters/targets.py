"""Which modules get an adapter, and the module surgery that puts it there and takes it out.

Target resolution
    ``resolve_target_modules(model, target_modules, exclude_modules=None, modules_to_save=None)
    -> list[str]`` — the dotted names of the ``nn.Linear`` (or GPT-2 ``Conv1D``) modules to
    adapt. This is THE target rule of every adapter method (dylora, krona, ...), PEFT's:

    * a list of strings matches a module whose name equals an entry or ends with ``"." + entry``
      (``["query", "value"]``);
    * a str is a regex that must ``re.fullmatch`` the whole module name
      (``".*attention.*(query|value)"``); it is never split on commas (``"query,value"`` is a regex
      that matches nothing, and the error says to pass a list);
    * ``"all-linear"`` is every ``nn.Linear``/``Conv1D`` except the output head
      (``model.get_output_embeddings()``) and the modules in ``modules_to_save``;
    * ``None`` is the architecture's default from ``DEFAULT_TARGET_MODULES`` (keyed by
      ``model.config.model_type``; an unknown architecture is an error).

    ``exclude_modules`` uses the same list/regex rules; ``name_matches(name, patterns)`` is the
    rule itself, for a method that selects other modules by name (krona's FFN blocks), and
    ``check_patterns(field, value)`` validates a value; ``parse_cli_targets(text)`` is the
    command line's form (``"query,value"`` -> a list, text with regex characters -> a regex). Raises :class:`papershelf.UserError`
    (one line) for a bad pattern (not a list of str, an invalid regex), when nothing matches
    (listing the adaptable names found, first 20) or when a matched module cannot be adapted
    (naming its type).

Surgery
    ``inject_adapters(model, names, factory) -> dict[str, AdapterLayer]`` replaces each named
    ``nn.Linear``/``Conv1D`` in place by ``factory(name, layer)``; ``adapter_layers(model)`` finds them
    again (by dotted name); ``merge_and_unload(model)`` merges every adapter layer and puts its
    (merged) plain base layer back (refusing quantised bases); ``unload(model)`` puts the unmerged base layer back.

Freezing
    ``mark_only_adapters_trainable(model, modules_to_save=None)`` freezes everything except the
    adapter parameters and the modules named in ``modules_to_save`` (suffix match);
    ``find_modules_to_save(model, patterns) -> {name: module}`` resolves those names.

Shapes
    ``target_shapes(model) -> {name: [out, in]}`` of every adapter layer's base layer, and
    ``check_target_shapes(model, recorded)``, which refuses a base model whose layers differ
    from the recorded ones, naming the module and both shapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from torch import nn

from papershelf.adapters.layer import (
    AdapterLayer,
    base_features,
    check_not_quantized,
    is_adaptable,
)
from papershelf.errors import UserError

__all__ = [
    "DEFAULT_TARGET_MODULES",
    "adapter_layers",
    "check_patterns",
    "check_target_shapes",
    "find_modules_to_save",
    "inject_adapters",
    "mark_only_adapters_trainable",
    "merge_and_unload",
    "name_matches",
    "parse_cli_targets",
    "resolve_target_modules",
    "set_submodule",
    "target_shapes",
    "unload",
]

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


def name_matches(name: str, patterns: str | Sequence[str]) -> bool:
    """PEFT matching: a str is a full-match regex; a list matches equal names or '.suffix'."""
    if isinstance(patterns, str):
        return re.fullmatch(patterns, name) is not None
    return any(name == p or name.endswith("." + p) for p in patterns)


def check_patterns(field: str, patterns: object) -> None:
    """Refuse a ``target_modules``-like value that is not None, a valid regex or a list of str."""
    if patterns is None:
        return
    if isinstance(patterns, str):
        if not patterns:
            raise UserError(f"{field}: the regex is empty; name at least one module")
        try:
            re.compile(patterns)
        except re.error as err:
            raise UserError(
                f"{field}: {patterns!r} is not a valid regex ({err}); a string is a full-match "
                "regex, a list holds module-name suffixes"
            ) from None
        return
    if not isinstance(patterns, list | tuple) or not all(isinstance(p, str) for p in patterns):
        raise UserError(
            f"{field}: expected a list of module-name suffixes, a regex string or None, "
            f"got {patterns!r}"
        )
    if len(patterns) == 0:
        raise UserError(f"{field}: the list is empty; name at least one module")


_check_patterns = check_patterns

_REGEX_CHARS = frozenset("()[]{}*+?\\|^$")


def parse_cli_targets(text: str) -> list[str] | str:
    """The CLI form of ``target_modules``: ``"all-linear"`` or a text with regex characters
    stays one string (a full-match regex); otherwise ``"query,value"`` is the list
    ``["query", "value"]``. A command-line convenience only: the library never splits a str.
    """
    if text == "all-linear" or any(c in _REGEX_CHARS for c in text):
        return text
    return [t.strip() for t in text.split(",") if t.strip()]


def _linear_names(model: nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if is_adaptable(m) and n]


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
    """Dotted names of the ``nn.Linear``/``Conv1D`` modules to adapt (rules in the module docstring)."""
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
            if not is_adaptable(module) or id(module) in heads:
                continue
            if save and name_matches(name, save):
                continue
        elif not name_matches(name, target_modules):
            continue
        if exclude_modules is not None and name_matches(name, exclude_modules):
            continue
        if isinstance(module, AdapterLayer):
            raise UserError(f"target_modules: {name!r} already holds an adapter")
        if not is_adaptable(module):
            raise UserError(
                f"target_modules: {name!r} is a {type(module).__name__}, not nn.Linear; "
                "only nn.Linear (and GPT-2 Conv1D) layers can be adapted"
            )
        names.append(name)
    if not names:
        found = _linear_names(model)
        shown = ", ".join(found[:_LIST_LIMIT]) + (" ..." if len(found) > _LIST_LIMIT else "")
        hint = ""
        if isinstance(target_modules, str) and "," in target_modules:
            hint = (
                " (a string is one full-match regex, PEFT's rule; for several names pass a "
                f"list: {[t.strip() for t in target_modules.split(',') if t.strip()]!r})"
            )
        raise UserError(
            f"target_modules: {target_modules!r} matched no nn.Linear module{hint}; "
            f"nn.Linear modules found: {shown or 'none'}"
        )
    return names


def set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    """Replace the submodule at dotted ``name`` by ``new``."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def inject_adapters(
    model: nn.Module,
    names: Iterable[str],
    factory: Callable[[str, nn.Module], AdapterLayer],
) -> dict[str, AdapterLayer]:
    """Replace each named ``nn.Linear``/``Conv1D`` in place by ``factory(name, layer)``."""
    layers: dict[str, AdapterLayer] = {}
    for name in names:
        base = model.get_submodule(name)
        if not is_adaptable(base):
            raise UserError(f"target_modules: {name!r} is a {type(base).__name__}, not nn.Linear")
        layer = factory(name, base)
        if not isinstance(layer, AdapterLayer):
            raise TypeError(f"factory must return an AdapterLayer, got {type(layer).__name__}")
        set_submodule(model, name, layer)
        layers[name] = layer
    return layers


def adapter_layers(model: nn.Module) -> dict[str, AdapterLayer]:
    """Every :class:`AdapterLayer` in ``model``, by dotted name."""
    return {n: m for n, m in model.named_modules() if isinstance(m, AdapterLayer)}


def find_modules_to_save(model: nn.Module, patterns: Sequence[str] | None) -> dict[str, nn.Module]:
    """The modules named by ``patterns`` (suffix match; adapter layers and nested ones left out)."""
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
    save = find_modules_to_save(model, modules_to_save)
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in adapter_layers(model).values():
        for p in layer.adapter_state_dict().values():
            p.requires_grad_(True)
    for module in save.values():
        for p in module.parameters():
            p.requires_grad_(True)


def merge_and_unload(model: nn.Module) -> nn.Module:
    """Merge every adapter layer and replace it by its plain (merged) base layer."""
    layers = adapter_layers(model)
    for name, layer in layers.items():
        if not layer.merged:
            check_not_quantized(layer.base_layer, "merge_and_unload", name)
    for name, layer in layers.items():
        if not layer.merged:
            layer.merge()
        set_submodule(model, name, layer.base_layer)
    return model


def unload(model: nn.Module) -> nn.Module:
    """Replace every adapter layer by its original, unmerged ``nn.Linear``."""
    for name, layer in adapter_layers(model).items():
        if layer.merged:
            layer.unmerge()
        set_submodule(model, name, layer.base_layer)
    return model


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
                f"adapter: module {name!r} recorded in adapter_config.json does not exist in "
                "this base model (was the adapter saved for another model?)"
            ) from None
        if isinstance(module, AdapterLayer):
            module = module.base_layer
        if not is_adaptable(module):
            raise UserError(
                f"adapter: module {name!r} is a {type(module).__name__} in this base model, "
                "not nn.Linear"
            )
        here = list(base_features(module))
        if list(shape) != here:
            raise UserError(
                f"adapter: module {name!r} has shape (out, in)={tuple(here)} in this base model "
                f"but {tuple(shape)} in the adapter (saved for another model?)"
            )
