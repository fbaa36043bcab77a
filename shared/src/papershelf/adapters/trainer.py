"""``AdapterCheckpointCallback``: Trainer checkpoints as PEFT adapter folders.

``transformers.Trainer`` special-cases ``PreTrainedModel`` and ``PeftModel`` when it saves; any
other model (our :class:`papershelf.adapters.AdapterModel`) is saved as
``model.safetensors`` holding ``model.state_dict()``, which for an adapter model is the
adapter's tensors only. This callback, run after each checkpoint (``on_save``), rewrites the
checkpoint folder into PEFT's layout:

* ``adapter_model.safetensors`` + ``adapter_config.json`` (``model.save_pretrained``; what
  ``<Method>Model.from_pretrained(base, folder)`` and ``config_from_pretrained`` read);
* ``model.safetensors.index.json``: a small index that maps every adapter key to
  ``adapter_model.safetensors``, so ``trainer.train(resume_from_checkpoint=...)`` (which
  loads an index through ``load_state_dict``, PEFT key names accepted) restores the adapter;
* ``model.safetensors`` is removed. The optimizer, scheduler, RNG and trainer state files stay.

``trainer.save_model(dir)`` (no callback event) writes ``model.safetensors`` with the adapter
tensors only; call ``model.save_pretrained(dir)`` for the adapter folder.

Importing this module imports transformers (``papershelf[hf]``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from papershelf.io import atomic_write_json

__all__ = ["INDEX_NAME", "AdapterCheckpointCallback", "convert_checkpoint"]

INDEX_NAME = "model.safetensors.index.json"
_TRAINER_WEIGHTS = "model.safetensors"


def _adapter_model(model: Any) -> Any:
    from papershelf.adapters.model import AdapterModel

    seen = 0
    while not isinstance(model, AdapterModel) and hasattr(model, "module") and seen < 4:
        model, seen = model.module, seen + 1  # DDP / DataParallel wrappers
    return model if isinstance(model, AdapterModel) else None


def convert_checkpoint(folder: str | Path, model: Any) -> Path:
    """Write ``model``'s adapter folder into ``folder`` and point the Trainer's resume at it.

    ``model`` is an :class:`papershelf.adapters.AdapterModel`; returns ``folder``.
    """
    from papershelf.adapters.io import ADAPTER_WEIGHTS_NAME

    folder = Path(folder)
    model.save_pretrained(folder)
    index = {
        "metadata": {"format": "papershelf-adapter", "adapter_type": model.adapter_type},
        "weight_map": dict.fromkeys(model.state_dict(), ADAPTER_WEIGHTS_NAME),
    }
    atomic_write_json(folder / INDEX_NAME, index)
    (folder / _TRAINER_WEIGHTS).unlink(missing_ok=True)
    return folder


class AdapterCheckpointCallback(TrainerCallback):
    """After every Trainer checkpoint, store it as a PEFT-style adapter folder (module doc).

    Args:
        model: the adapter model; default: the model the Trainer passes to callbacks.
    """

    def __init__(self, model: Any = None) -> None:
        self.model = model

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        model = _adapter_model(self.model if self.model is not None else kwargs.get("model"))
        if model is None or not args.should_save:
            return control
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            convert_checkpoint(folder, model)
        return control


def read_index(folder: str | Path) -> dict[str, Any]:
    """The ``model.safetensors.index.json`` of a converted checkpoint (for tests and tools)."""
    return json.loads((Path(folder) / INDEX_NAME).read_text(encoding="utf-8"))
