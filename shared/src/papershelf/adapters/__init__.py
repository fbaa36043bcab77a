"""Adapter machinery shared by the adapter papers (dylora, krona), in PEFT's conventions.

An adapter method supplies a layer class, a config and a small subclass of the template
:class:`AdapterModel`; everything else is here, cut as PEFT cuts its tuners:

``papershelf.adapters.layer``
    :class:`AdapterLayer`, the base of a layer that wraps one frozen ``nn.Linear`` or GPT-2
    ``Conv1D`` (``adapter_forward``, ``delta_weight``, ``merge``/``unmerge``, ``disabled``;
    ``fan_in_fan_out`` for ``Conv1D``), the ``disabled_adapters`` context manager, and
    ``is_adaptable``/``is_conv1d``/``base_features``/``quantization_of``/
    ``check_not_quantized`` (merging into a quantised base layer is refused with one line).
``papershelf.adapters.targets``
    Target resolution with PEFT's rules (``resolve_target_modules``, ``name_matches``,
    ``DEFAULT_TARGET_MODULES``), model surgery (``inject_adapters``, ``adapter_layers``,
    ``merge_and_unload``, ``unload``), freezing (``mark_only_adapters_trainable``) and the
    recorded target shapes (``target_shapes``, ``check_target_shapes``).
``papershelf.adapters.io``
    The adapter folder, PEFT's layout: ``adapter_model.safetensors`` (keys
    ``base_model.model.<module>.<param>``) + one flat ``adapter_config.json`` (metadata keys
    ``adapter_type``, ``library_version``, ``base_model_name_or_path``, ``target_shapes`` next
    to the config's fields), written atomically.
``papershelf.adapters.model``
    :class:`AdapterModel`, the template: class attributes ``adapter_type``, ``prefix``,
    ``config_class``, ``layer_class``; one public API for every method (``merge_adapter``,
    ``unmerge_adapter``, ``merge_and_unload``, ``unload``, ``disable_adapter``,
    ``save_pretrained``, ``from_pretrained``, ``export_peft``, ``print_trainable_parameters``)
    and the hooks a method overrides; ``deprecated_alias`` for renamed methods.

``papershelf.adapters.trainer``
    :class:`AdapterCheckpointCallback` for ``transformers.Trainer``: checkpoints become PEFT
    adapter folders that ``from_pretrained`` reads and the Trainer resumes from (imports
    transformers, so it loads on first use of the name).

Every name is importable from ``papershelf.adapters``. Torch is imported here only;
``import papershelf`` stays light.
"""

from __future__ import annotations

from typing import Any

from papershelf.adapters.io import (
    ADAPTER_CONFIG_NAME,
    ADAPTER_KEY_PREFIX,
    ADAPTER_WEIGHTS_NAME,
    METADATA_KEYS,
    adapter_state_dict,
    load_adapter,
    modules_to_save_state_dict,
    read_adapter_config,
    save_adapter,
    split_adapter_config,
    write_adapter_dir,
)
from papershelf.adapters.layer import (
    AdapterLayer,
    base_features,
    check_not_quantized,
    disabled_adapters,
    is_adaptable,
    is_conv1d,
    quantization_of,
)
from papershelf.adapters.model import (
    AdapterModel,
    ParameterSummary,
    deprecated_alias,
    trainable_parameter_summary,
)
from papershelf.adapters.targets import (
    DEFAULT_TARGET_MODULES,
    adapter_layers,
    check_patterns,
    check_target_shapes,
    find_modules_to_save,
    inject_adapters,
    mark_only_adapters_trainable,
    merge_and_unload,
    name_matches,
    parse_cli_targets,
    resolve_target_modules,
    set_submodule,
    target_shapes,
    unload,
)

__all__ = [
    "ADAPTER_CONFIG_NAME",
    "ADAPTER_KEY_PREFIX",
    "ADAPTER_WEIGHTS_NAME",
    "DEFAULT_TARGET_MODULES",
    "METADATA_KEYS",
    "AdapterCheckpointCallback",
    "AdapterLayer",
    "AdapterModel",
    "ParameterSummary",
    "adapter_layers",
    "adapter_state_dict",
    "base_features",
    "check_not_quantized",
    "check_patterns",
    "check_target_shapes",
    "deprecated_alias",
    "disabled_adapters",
    "find_modules_to_save",
    "inject_adapters",
    "is_adaptable",
    "is_conv1d",
    "load_adapter",
    "mark_only_adapters_trainable",
    "merge_and_unload",
    "modules_to_save_state_dict",
    "name_matches",
    "parse_cli_targets",
    "quantization_of",
    "read_adapter_config",
    "resolve_target_modules",
    "save_adapter",
    "set_submodule",
    "split_adapter_config",
    "target_shapes",
    "trainable_parameter_summary",
    "unload",
    "write_adapter_dir",
]


def __getattr__(name: str) -> Any:
    if name == "AdapterCheckpointCallback":
        from papershelf.adapters.trainer import AdapterCheckpointCallback

        return AdapterCheckpointCallback
    raise AttributeError(f"module 'papershelf.adapters' has no attribute {name!r}")
