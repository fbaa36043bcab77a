"""``AdapterModel``: the PEFT-style template every adapter method's model subclasses.

A method (dylora, krona, ...) writes only what is its own:

* a layer class, a subclass of :class:`papershelf.adapters.AdapterLayer` (PEFT's
  ``BaseTunerLayer`` role), whose parameters are all named with the method's ``prefix``;
* a config dataclass (``papershelf.config.Config``) with ``target_modules``,
  ``exclude_modules`` and ``modules_to_save`` fields;
* a subclass of :class:`AdapterModel` (PEFT's ``BaseTuner`` + ``PeftModel`` role) that sets the
  class attributes and overrides the hooks it needs.

Class attributes
    ``adapter_type``  the method's name, written as ``adapter_type`` in ``adapter_config.json``
                      (``"dylora"``, ``"krona"``).
    ``prefix``        the name prefix of every adapter parameter (``"lora_"``, ``"krona_"``);
                      checked when the layers are created, so saved keys read
                      ``base_model.model.<module>.<prefix>...``.
    ``config_class``  the config dataclass.
    ``layer_class``   the layer that wraps each target ``nn.Linear`` (built by
                      ``layer_class(linear, config)`` unless ``_create_layer`` is overridden).
    ``metadata_keys`` extra keys the method records in ``adapter_config.json``.
    ``error_class``   the ``UserError`` subclass the method raises (e.g. ``KronAError``).

Public API, the same names in every method
    ``model(...)`` / attributes       the wrapped model's (a plain loop or the HF Trainer work);
                                      ``forward`` carries the wrapped model's signature (see
                                      "Hugging Face Trainer" below)
    ``adapter_config``                the config; ``get_base_model()`` the wrapped model
    ``adapter_layers()``              every adapter module by dotted name
    ``merged``                        whether the adapters are merged into the base weights
    ``merge_adapter()``               add every ΔW into its base weight (adapters kept)
    ``unmerge_adapter()``             subtract it again (a no-op when nothing is merged)
    ``merge_and_unload()``            merge, then return the wrapped model with plain layers
    ``unload()``                      return the wrapped model with its original layers
    ``disable_adapter()``             context manager: the base model's outputs inside
    ``save_pretrained(dir)``          ``adapter_model.safetensors`` + flat ``adapter_config.json``
    ``from_pretrained(base, dir, is_trainable=False)``  classmethod: re-create and load
    ``config_from_pretrained(dir)``   classmethod: the saved config only
    ``export_peft(dir, ...)``         write the same adapter in PEFT's own format (LoRA, LoKr)
    ``adapter_config_dict()``         what ``save_pretrained`` writes as ``adapter_config.json``
    ``print_trainable_parameters()`` / ``trainable_parameter_summary()``
    ``state_dict()`` / ``load_state_dict(sd)``  the adapter's tensors only (see below)

    A method adds keyword arguments where its method needs them (dylora: ``rank``), never
    another name for the same operation.

Hooks (override in the method's model)
    ``_inject_adapters(targets)``   resolve and replace the targets (PEFT's
                                    ``inject_adapter``); default: ``nn.Linear`` targets from
                                    ``config.target_modules`` via ``_create_layer``
    ``_create_layer(name, linear)`` one adapter layer (PEFT's ``_create_and_replace``)
    ``_saved_modules()``            module patterns trained in full and saved
                                    (default ``config.modules_to_save``)
    ``_check_mergeable(what)``      refuse merging (e.g. a non-linear variant)
    ``_target_shapes()`` / ``_extra_metadata()``  what ``adapter_config_dict`` records
    ``_upgrade_saved_config(raw)``  read an older on-disk layout (classmethod)
    ``_saved_targets(base, config, metadata)``  check the base model, pin the targets
    ``_peft_adapter(**kw) -> (tensors, peft_config)``  the export's content

Hugging Face Trainer (``transformers.Trainer`` with default ``TrainingArguments``)
    * The wrapper's class is a cached per-base-class subclass whose ``forward`` carries the
      wrapped model's ``inspect.signature``, so the Trainer keeps the dataset columns the
      model takes (``remove_unused_columns``), finds the label names (``labels``,
      ``start_positions``...) for ``eval_loss``/``compute_metrics`` and ``predict``. The
      subclass has the method class's name and pickles/deep-copies as such.
    * ``state_dict()`` holds the adapter only: the adapter layers' tensors and
      ``modules_to_save`` (keys ``model.<path>.<param>``); the frozen base is the base
      model's (``get_base_model().state_dict()``). ``load_state_dict`` takes these keys, PEFT's
      ``base_model.model.<path>`` keys or a full state dict, and with ``strict`` refuses
      missing adapter keys. So a Trainer checkpoint never copies (or chokes on tied) base
      weights, and ``resume_from_checkpoint`` restores the adapter.
    * :class:`papershelf.adapters.AdapterCheckpointCallback` (``callbacks=[...]``; dylora's
      ``DyLoRACallback`` includes it) turns every checkpoint into PEFT's adapter folder:
      ``adapter_model.safetensors`` + ``adapter_config.json`` (what ``from_pretrained`` reads),
      and a ``model.safetensors.index.json`` pointing the Trainer's resume at that file.

:func:`deprecated_alias` makes the one-release aliases of renamed methods (they warn with
``DeprecationWarning`` and forward). ``trainable_parameter_summary(model)`` and
:class:`ParameterSummary` count parameters (PEFT's ``trainable params: ...`` line).
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import torch
from torch import nn

from papershelf.adapters.io import (
    ADAPTER_KEY_PREFIX,
    adapter_state_dict,
    load_adapter,
    modules_to_save_state_dict,
    read_adapter_config,
    save_adapter,
    split_adapter_config,
    write_adapter_dir,
)
from papershelf.adapters.layer import AdapterLayer, check_not_quantized, disabled_adapters
from papershelf.adapters.targets import (
    adapter_layers,
    check_target_shapes,
    inject_adapters,
    mark_only_adapters_trainable,
    merge_and_unload,
    resolve_target_modules,
    target_shapes,
    unload,
)
from papershelf.errors import UserError

__all__ = [
    "AdapterModel",
    "ParameterSummary",
    "deprecated_alias",
    "trainable_parameter_summary",
]


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


def deprecated_alias(new_name: str, old_name: str) -> Callable[..., Any]:
    """A method ``old_name`` that warns (``DeprecationWarning``) and calls ``new_name``.

    Renamed public methods keep such an alias for one release.
    """

    def alias(self: Any, *args: Any, **kwargs: Any) -> Any:
        warnings.warn(
            f"{type(self).__name__}.{old_name}() is deprecated and will be removed in the next "
            f"release; use {new_name}()",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, new_name)(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    alias.__doc__ = f"Deprecated alias of :meth:`{new_name}` (kept for one release)."
    return alias


_SIGNATURE_CLASSES: dict[tuple[type, type], type] = {}


def _signature_class(cls: type, wrapped: type) -> type:
    """A subclass of ``cls`` whose ``forward`` has the signature of ``wrapped.forward``.

    Cached per ``(cls, wrapped)``; ``cls`` itself when the signature cannot be read.
    """
    key = (cls, wrapped)
    if key in _SIGNATURE_CLASSES:
        return _SIGNATURE_CLASSES[key]
    try:
        signature = inspect.signature(wrapped.forward)
    except (AttributeError, TypeError, ValueError):
        return cls
    plain_forward = cls.forward

    def forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        return plain_forward(self, *args, **kwargs)

    forward.__signature__ = signature  # type: ignore[attr-defined]
    forward.__name__ = "forward"
    forward.__qualname__ = f"{cls.__qualname__}.forward"
    forward.__doc__ = f"The wrapped {wrapped.__name__}'s forward (same arguments)."
    namespace = {
        "forward": forward,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
        "_adapter_plain_class": cls,
        "_adapter_wrapped_class": wrapped,
    }
    sub = type(cls.__name__, (cls,), namespace)
    _SIGNATURE_CLASSES[key] = sub
    return sub


def _rebuild_adapter_model(cls: type, wrapped: type) -> Any:
    """Unpickling helper: an empty instance of the signature class of ``(cls, wrapped)``."""
    sub = _signature_class(cls, wrapped)
    return sub.__new__(sub)


class AdapterModel(nn.Module):
    """A wrapped model with adapter layers injected (in place) into ``self.model``.

    ``forward`` and attributes this class does not define are the wrapped model's. Used
    bare (``AdapterModel(model)``) it only wraps a model whose adapters were injected by
    hand; a method's subclass builds them from its config (see the module docstring).
    """

    adapter_type: ClassVar[str] = ""
    prefix: ClassVar[str] = ""
    config_class: ClassVar[type | None] = None
    layer_class: ClassVar[type[AdapterLayer] | None] = None
    metadata_keys: ClassVar[tuple[str, ...]] = ()
    error_class: ClassVar[type[UserError]] = UserError

    def __init__(
        self, model: nn.Module, config: Any = None, targets: Sequence[str] | None = None
    ) -> None:
        cls = type(self)
        if cls.config_class is not None:
            if not isinstance(config, cls.config_class):
                raise cls.error_class(
                    f"config: expected a {cls.config_class.__name__}, got {type(config).__name__}"
                )
            if isinstance(model, AdapterModel) or adapter_layers(model):
                raise cls.error_class(
                    "model: already holds adapter layers; pass a fresh base model"
                )
        super().__init__()
        self.model = model
        self.adapter_config = config
        if cls.config_class is not None:
            self._inject_adapters(targets)
            mark_only_adapters_trainable(model, self._saved_modules())
            self._check_prefix()
        if "_adapter_plain_class" not in cls.__dict__:
            self.__class__ = _signature_class(cls, type(model))

    def __reduce_ex__(self, protocol: Any) -> Any:
        plain = type(self).__dict__.get("_adapter_plain_class")
        if plain is None:
            return super().__reduce_ex__(protocol)
        wrapped = type(self).__dict__["_adapter_wrapped_class"]
        return (_rebuild_adapter_model, (plain, wrapped), self.__dict__)

    # -- plumbing ---------------------------------------------------------------------------
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

    # -- state dict: the adapter only --------------------------------------------------------
    def _adapter_keys(self, prefix: str = "") -> list[str]:
        """``state_dict`` keys of the adapter tensors and ``modules_to_save``."""
        keys = adapter_state_dict(self.model, self._saved_modules())
        return [f"{prefix}model.{k[len(ADAPTER_KEY_PREFIX) :]}" for k in keys]

    def state_dict(
        self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False
    ) -> Any:  # type: ignore[override]
        """The adapter's tensors only (adapter layers + ``modules_to_save``), keys
        ``model.<path>.<param>``; the frozen base is ``get_base_model().state_dict()``."""
        full = super().state_dict(
            *args, destination=destination, prefix=prefix, keep_vars=keep_vars
        )
        keep = set(self._adapter_keys(prefix))
        for key in [k for k in full if k.startswith(prefix) and k not in keep]:
            del full[key]
        return full

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:  # type: ignore[override]
        """Load adapter tensors (our keys or PEFT's ``base_model.model.`` keys; a full state
        dict works too). ``strict`` refuses missing adapter keys and unknown keys."""
        renamed = {
            (f"model.{k[len(ADAPTER_KEY_PREFIX) :]}" if k.startswith(ADAPTER_KEY_PREFIX) else k): v
            for k, v in state_dict.items()
        }
        result = super().load_state_dict(renamed, strict=False, assign=assign)
        expected = set(self._adapter_keys())
        missing = [k for k in result.missing_keys if k in expected]
        unexpected = list(result.unexpected_keys)
        if strict and (missing or unexpected):
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}: "
                f"missing adapter keys {missing[:5]}, unexpected keys {unexpected[:5]}"
            )
        return torch.nn.modules.module._IncompatibleKeys(missing, unexpected)

    def trainable_parameter_summary(self) -> ParameterSummary:
        return trainable_parameter_summary(self.model)

    def print_trainable_parameters(self) -> None:
        """Print PEFT's ``trainable params: ... || all params: ... || trainable%: ...`` line."""
        print(self.trainable_parameter_summary())

    def _error(self, message: str) -> UserError:
        return self.error_class(message)

    # -- injection hooks --------------------------------------------------------------------
    def _inject_adapters(self, targets: Sequence[str] | None) -> None:
        """Replace the target ``nn.Linear`` layers (``targets``, or the config's) in place."""
        cfg = self.adapter_config
        names = (
            list(targets)
            if targets is not None
            else resolve_target_modules(
                self.model, cfg.target_modules, cfg.exclude_modules, cfg.modules_to_save
            )
        )
        inject_adapters(self.model, names, self._create_layer)

    def _create_layer(self, name: str, linear: nn.Module) -> AdapterLayer:
        """The adapter layer for target ``name`` (default ``layer_class(linear, config)``);
        ``linear`` is an ``nn.Linear`` or a GPT-2 ``Conv1D``."""
        assert self.layer_class is not None
        return self.layer_class(linear, self.adapter_config)

    def _saved_modules(self) -> list[str]:
        """Module patterns trained in full and saved with the adapter."""
        return list(getattr(self.adapter_config, "modules_to_save", None) or [])

    def _check_prefix(self) -> None:
        for name, layer in adapter_layers(self.model).items():
            for key in layer.adapter_state_dict():
                if not key.startswith(self.prefix):
                    raise TypeError(
                        f"{type(layer).__name__} at {name!r}: parameter {key!r} does not start "
                        f"with the adapter prefix {self.prefix!r}"
                    )

    # -- introspection ----------------------------------------------------------------------
    def adapter_layers(self) -> dict[str, nn.Module]:
        """Every adapter module of the wrapped model, by dotted name."""
        return dict(adapter_layers(self.model))

    @property
    def merged(self) -> bool:
        return any(getattr(m, "merged", False) for m in self.adapter_layers().values())

    # -- merge / unload / disable -----------------------------------------------------------
    def _check_mergeable(self, what: str) -> None:
        """Raise when this adapter cannot merge into the base weights (default: it can, unless
        a base layer is quantised)."""
        for name, layer in self.adapter_layers().items():
            base = getattr(layer, "base_layer", None)
            if base is not None and not getattr(layer, "merged", False):
                check_not_quantized(base, what, name)

    def merge_adapter(self, safe_merge: bool = False, **layer_kwargs: Any) -> None:
        """Add every adapter's ΔW into its base weight (outputs unchanged; adapters kept).

        ``safe_merge`` refuses a merged weight with NaN/inf values.
        """
        self._check_mergeable("merge_adapter")
        if self.merged:
            raise self._error("merge_adapter: already merged; call unmerge_adapter() first")
        for layer in self.adapter_layers().values():
            layer.merge(safe_merge=safe_merge, **layer_kwargs)

    def unmerge_adapter(self) -> None:
        """Subtract the merged ΔW again (a no-op for layers that are not merged)."""
        self._check_mergeable("unmerge_adapter")
        for layer in self.adapter_layers().values():
            if layer.merged:
                layer.unmerge()

    def merge_and_unload(self, safe_merge: bool = False, **layer_kwargs: Any) -> nn.Module:
        """Merge (unless merged already) and return the wrapped model with plain layers."""
        self._check_mergeable("merge_and_unload")
        if not self.merged:
            self.merge_adapter(safe_merge=safe_merge, **layer_kwargs)
        return merge_and_unload(self.model)

    def unload(self) -> nn.Module:
        """Return the wrapped model with its original layers (adapters dropped, not merged)."""
        return unload(self.model)

    @contextlib.contextmanager
    def disable_adapter(self) -> Iterator[Self]:
        """``with model.disable_adapter(): ...`` runs the base model (adapter outputs skipped)."""
        if self.merged:
            raise self._error(
                "disable_adapter: the adapters are merged; call unmerge_adapter() first"
            )
        with disabled_adapters(self.adapter_layers().values()):
            yield self

    # -- saving -----------------------------------------------------------------------------
    def _base_model_name_or_path(self) -> str | None:
        return getattr(getattr(self.model, "config", None), "_name_or_path", None) or None

    def _library_version(self) -> str | None:
        package = sys.modules.get(type(self).__module__.partition(".")[0])
        return getattr(package, "__version__", None)

    def _target_shapes(self) -> dict[str, list[int]]:
        """``{target: [out, in]}`` recorded in ``adapter_config.json``."""
        return target_shapes(self.model)

    def _extra_metadata(self) -> dict[str, Any]:
        """More metadata for ``adapter_config.json`` (keys listed in ``metadata_keys``)."""
        return {}

    def adapter_config_dict(self) -> dict[str, Any]:
        """The flat ``adapter_config.json``: metadata, then every field of the config."""
        return {
            "adapter_type": self.adapter_type,
            "library_version": self._library_version(),
            "base_model_name_or_path": self._base_model_name_or_path(),
            "target_shapes": self._target_shapes(),
            **self._extra_metadata(),
            **self.adapter_config.to_dict(),
        }

    def save_pretrained(self, save_directory: str | Path, **_: Any) -> Path:
        """Write ``adapter_model.safetensors`` (adapter tensors and ``modules_to_save``, PEFT
        keys) and ``adapter_config.json`` (:meth:`adapter_config_dict`), atomically."""
        if self.merged:
            raise self._error(
                "save_pretrained: the adapters are merged (the base weights hold ΔW); "
                "call unmerge_adapter() first"
            )
        return save_adapter(
            save_directory, self.model, self.adapter_config_dict(), self._saved_modules()
        )

    @classmethod
    def _upgrade_saved_config(cls, raw: dict[str, Any], folder: str | Path) -> dict[str, Any]:
        """Turn an older on-disk layout into the current flat one (default: unchanged)."""
        return raw

    @classmethod
    def _saved_targets(
        cls, base_model: nn.Module, config: Any, metadata: dict[str, Any]
    ) -> tuple[Any, list[str] | None]:
        """Check ``base_model`` against the recorded shapes; return ``(config, targets)``."""
        shapes = metadata["target_shapes"]
        check_target_shapes(base_model, shapes)
        return config, list(shapes)

    @classmethod
    def _read_saved(cls, adapter_dir: str | Path) -> tuple[Any, dict[str, Any]]:
        """``(config, metadata)`` of a saved adapter of this method (checks type and shapes)."""
        assert cls.config_class is not None, "reading an adapter needs a method's subclass"
        raw = cls._upgrade_saved_config(read_adapter_config(adapter_dir), adapter_dir)
        kind = raw.get("adapter_type", raw.get("peft_type"))
        if kind != cls.adapter_type:
            raise cls.error_class(
                f"adapter dir: {str(adapter_dir)!r} holds adapter_type {kind!r}, "
                f"not {cls.adapter_type!r}"
            )
        fields, metadata = split_adapter_config(
            raw, cls.config_class, cls.metadata_keys, adapter_dir
        )
        shapes = metadata.get("target_shapes")
        if not isinstance(shapes, dict) or not shapes:
            raise cls.error_class(f"adapter dir: {str(adapter_dir)!r} records no target_shapes")
        return cls.config_class.from_dict(fields), metadata

    @classmethod
    def config_from_pretrained(cls, adapter_dir: str | Path) -> Any:
        """The config of the adapter saved in ``adapter_dir`` (no model is built; PEFT's
        ``PeftConfig.from_pretrained``)."""
        return cls._read_saved(adapter_dir)[0]

    @classmethod
    def from_pretrained(
        cls, base_model: nn.Module, adapter_dir: str | Path, is_trainable: bool = False
    ) -> Self:
        """Re-create the adapter saved in ``adapter_dir`` on ``base_model`` (modified in place).

        Refuses a folder that lacks a file, holds another method's adapter, or was saved for
        a base model with other target shapes. Unless ``is_trainable``, every parameter is
        frozen and the model is put in eval mode.
        """
        config, metadata = cls._read_saved(adapter_dir)
        config, targets = cls._saved_targets(base_model, config, metadata)
        model = cls(base_model, config, targets=targets)
        load_adapter(adapter_dir, base_model, model._saved_modules())
        if not is_trainable:
            for p in model.parameters():
                p.requires_grad_(False)
            model.eval()
        return model

    # -- export -----------------------------------------------------------------------------
    def _peft_adapter(self, **kwargs: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The PEFT tensors (PEFT keys, adapter layers only) and PEFT config of the export."""
        raise self._error(f"export_peft: {type(self).__name__} has no PEFT equivalent")

    def export_peft(self, save_directory: str | Path, **kwargs: Any) -> Path:
        """Write this adapter as a standard PEFT adapter folder (``peft.PeftModel.from_pretrained``
        loads it and computes our outputs); ``modules_to_save`` travel with it."""
        if self.merged:
            raise self._error("export_peft: the adapters are merged; call unmerge_adapter() first")
        tensors, peft_config = self._peft_adapter(**kwargs)
        modules = getattr(self.adapter_config, "modules_to_save", None)
        config = {"task_type": None, "modules_to_save": modules, **peft_config}
        config["base_model_name_or_path"] = self._base_model_name_or_path()
        config["inference_mode"] = True
        tensors = {**modules_to_save_state_dict(self.model, modules), **tensors}
        return write_adapter_dir(save_directory, tensors, config)
