"""The rank-b slice of a DyLoRA adapter as a standard PEFT LoRA adapter.

``DyLoRAModel.export_peft(dir, rank=b)`` writes it (``peft.PeftModel.from_pretrained`` loads
it and computes our rank-b outputs; peft itself is not needed to write it). The content:

* ``lora_A = W_dw[:b]: (b, in)`` and ``lora_B = W_up[:, :b]: (out, b)``, copied bit for bit
  under PEFT's keys ``base_model.model.<module>.lora_A.weight`` / ``.lora_B.weight``;
* ``r = b`` and ``lora_alpha = α`` (α/b rule) or ``α·b/r_max`` (constant rule), so PEFT's
  scale ``lora_alpha / r`` equals ours;
* the ``modules_to_save`` (e.g. the classifier) under their own keys (added by the template);
* ``fan_in_fan_out = True`` for GPT-2 ``Conv1D`` targets (PEFT's flag: the same A/B, ΔW
  transposed into the base weight).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from papershelf.adapters import ADAPTER_KEY_PREFIX
from papershelf.errors import UserError

if TYPE_CHECKING:
    from dylora.model import DyLoRAModel

__all__ = ["peft_lora_adapter"]


def peft_lora_adapter(
    model: DyLoRAModel, rank: int
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(tensors, config)`` of the rank-``rank`` slice as a PEFT LoRA adapter."""
    config = model.adapter_config
    b = config.check_rank(rank)
    layers = model.dylora_layers
    tensors: dict[str, torch.Tensor] = {}
    for name, layer in layers.items():
        tensors[f"{ADAPTER_KEY_PREFIX}{name}.lora_A.weight"] = layer.lora_A.weight[:b]
        tensors[f"{ADAPTER_KEY_PREFIX}{name}.lora_B.weight"] = layer.lora_B.weight[:, :b]
    alpha = config.alpha if config.scaling == "alpha_over_b" else config.alpha * b / config.r_max
    layouts = {layer.fan_in_fan_out for layer in layers.values()}
    if len(layouts) > 1:
        raise UserError(
            "export_peft: the adapter mixes nn.Linear and GPT-2 Conv1D targets; PEFT's one "
            "fan_in_fan_out flag cannot describe both (export them as two adapters)"
        )
    peft_config = {
        "peft_type": "LORA",
        "r": b,
        "lora_alpha": alpha,
        "lora_dropout": config.dropout,
        "target_modules": sorted(layers),
        "bias": "none",
        "use_rslora": False,
        "use_dora": False,
        "fan_in_fan_out": layouts.pop(),
        "init_lora_weights": True,
    }
    return tensors, peft_config
