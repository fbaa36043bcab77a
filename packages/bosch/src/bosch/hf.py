"""Hugging Face integration: ``"bosch_hybrid"`` in transformers' ``AttentionInterface``.

The per-(layer, KV head) SWA decisions live in ``model.config.bosch`` (saved in
config.json); the attention function reads ``module.layer_idx``. transformers' caches keep
full K/V per layer, so for HF models the KV saving is computed (``HeadMask.kv_entries``),
not released; ``TinyRetrievalLM``'s ``RollingHybridCache`` releases it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from papershelf.errors import UserError

from bosch.functional import hybrid_attention
from bosch.mask import HeadMask

__all__ = [
    "ATTN_NAME",
    "HFHybrid",
    "apply_hybrid",
    "hybrid_attention_forward",
    "load_hybrid",
    "model_shape",
    "register_hybrid_attention",
]

ATTN_NAME = "bosch_hybrid"


def hybrid_attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers attention function: query (B, H, T, D), key/value (B, H_kv, S, D) -> (B, T, H, D).

    Layers without SWA groups call transformers' own SDPA function (bit-identical to the
    original model); others run ``hybrid_attention`` with the layer's row of the mask.
    """
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    layer_idx = getattr(module, "layer_idx", None)
    if layer_idx is None:
        raise UserError("model: attention modules must have layer_idx to apply a BOSCH mask")
    spec = getattr(module.config, "bosch", None) or {}
    rows = spec.get("swa")
    if not rows or not any(rows[layer_idx]):
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    swa = torch.tensor(rows[layer_idx], dtype=torch.bool, device=query.device)
    mask = attention_mask
    if mask is not None and mask.shape[-1] != key.shape[-2]:
        mask = mask[..., : key.shape[-2]]
    out = hybrid_attention(
        query, key, value, swa, int(spec["window"]), int(spec.get("sink_tokens", 0)), mask, scaling
    )
    return out.transpose(1, 2).contiguous(), None


def register_hybrid_attention() -> str:
    """Register ``"bosch_hybrid"`` (attention and its mask, SDPA's) with transformers."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTN_NAME, hybrid_attention_forward)
    AttentionMaskInterface.register(ATTN_NAME, sdpa_mask)
    return ATTN_NAME


def model_shape(config) -> tuple[int, int]:
    """(layers, KV heads per layer) of a transformers decoder config."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    layers = getattr(text, "num_hidden_layers", None)
    heads = getattr(text, "num_attention_heads", None)
    if layers is None or heads is None:
        raise UserError("model: config needs num_hidden_layers and num_attention_heads")
    return int(layers), int(getattr(text, "num_key_value_heads", None) or heads)


def apply_hybrid(model, mask: HeadMask, window: int, sink_tokens: int = 0):
    """Store the mask in ``model.config.bosch`` and switch to ``"bosch_hybrid"`` attention.

    Refuses a mask of another shape than (layers, KV heads). Returns the model.
    """
    if window < 1:
        raise UserError(f"window: must be >= 1, got {window}")
    mask.check_shape(*model_shape(model.config))
    register_hybrid_attention()
    model.config.bosch = {
        "swa": [[int(b) for b in row] for row in mask.bits],
        "window": int(window),
        "sink_tokens": int(sink_tokens),
    }
    model.set_attn_implementation(ATTN_NAME)
    return model


def load_hybrid(path: str | Path, **kwargs: Any):
    """Load a model saved after ``apply_hybrid`` (``AutoModelForCausalLM``), hybrid attention on."""
    from transformers import AutoModelForCausalLM

    register_hybrid_attention()
    model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    spec = getattr(model.config, "bosch", None)
    if spec:
        model.set_attn_implementation(ATTN_NAME)
    return model


class HFHybrid:
    """Adapter giving a transformers causal LM the ``TinyRetrievalLM`` interface used by the search.

    ``__call__(input_ids: (batch, seq)) -> logits (batch, seq, vocab)``.
    """

    def __init__(self, model) -> None:
        self.model = model.eval()
        self.num_layers, self.num_kv_heads = model_shape(model.config)

    def set_hybrid(self, mask: HeadMask, window: int, sink_tokens: int = 0) -> HFHybrid:
        apply_hybrid(self.model, mask, window, sink_tokens)
        return self

    @torch.no_grad()
    def __call__(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids).logits
