"""``DyLoRACallback``: rank sampling for the Hugging Face ``Trainer``.

The Trainer calls ``on_step_begin`` once per training step, before the first micro-batch
of a gradient-accumulation group, so every micro-batch of one step shares b (as the
official code does). ``strict_freeze`` restores the inactive rows in ``on_optimizer_step``.

It is also a :class:`papershelf.adapters.AdapterCheckpointCallback`: every checkpoint folder
becomes a DyLoRA adapter folder (``adapter_model.safetensors`` + ``adapter_config.json``,
read by ``DyLoRAModel.from_pretrained``) that ``trainer.train(resume_from_checkpoint=...)``
resumes from.
"""

from __future__ import annotations

from typing import Any

from papershelf.adapters.trainer import AdapterCheckpointCallback
from papershelf.errors import UserError

__all__ = ["DyLoRACallback"]


class DyLoRACallback(AdapterCheckpointCallback):
    """Samples b = f(seed, global_step) at the start of every training step; saves
    checkpoints as adapter folders.

    Args:
        model: the :class:`dylora.DyLoRAModel` being trained; if omitted, the model the
            Trainer passes to the callback is used (it must then be the DyLoRA wrapper).
    """

    def _dylora(self, kwargs: dict[str, Any]) -> Any:
        model = self.model if self.model is not None else kwargs.get("model")
        if not hasattr(model, "sample_rank"):
            raise UserError(
                "DyLoRACallback: the Trainer's model is not a DyLoRAModel; "
                "pass it explicitly: DyLoRACallback(model)"
            )
        return model

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self._dylora(kwargs).sample_rank(int(state.global_step))
        return control

    def on_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        model = self._dylora(kwargs)
        if model.adapter_config.strict_freeze:
            model.restore_inactive_rows()
        return control
