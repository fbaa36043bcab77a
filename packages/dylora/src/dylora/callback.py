"""``DyLoRACallback``: rank sampling for the Hugging Face ``Trainer``.

The Trainer calls ``on_step_begin`` once per training step, before the first micro-batch
of a gradient-accumulation group, so every micro-batch of one step shares b (as the
official code does). ``strict_freeze`` restores the inactive rows in ``on_optimizer_step``.
"""

from __future__ import annotations

from typing import Any

from papershelf.errors import UserError
from transformers import TrainerCallback

__all__ = ["DyLoRACallback"]


class DyLoRACallback(TrainerCallback):
    """Samples b = f(seed, global_step) at the start of every training step.

    Args:
        model: the :class:`dylora.DyLoRAModel` being trained; if omitted, the model the
            Trainer passes to the callback is used (it must then be the DyLoRA wrapper).
    """

    def __init__(self, model: Any = None) -> None:
        self.model = model

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
