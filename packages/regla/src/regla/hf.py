"""Linearising a Hugging Face decoder: softmax attention modules replaced by ReGLA layers.

Supported families keep their attention at ``model.model.layers[i].self_attn`` with
``q_proj``/``k_proj``/``v_proj``/``o_proj`` (Llama, Mistral, Qwen2, Qwen3). The adapter keeps
the family's forward signature (``hidden_states, position_embeddings, attention_mask, cache``)
and returns ``(output, None)``. ``AttentionInterface`` does not fit: gates need the hidden
states, and the cache is a state, not K/V (spec, Library API). During cached generation the
ReGLA state lives in a dict on the transformers ``Cache`` object, and the layer appends a
1-float placeholder per token to the cache so that ``get_seq_length`` stays right for the
softmax layers of a hybrid.
"""

from __future__ import annotations

from typing import Any

import torch
from papershelf.errors import UserError
from torch import nn

from regla.config import ReGLAConfig, resolve_layer_types
from regla.layer import ReGLAAttention

__all__ = ["SUPPORTED_FAMILIES", "HFReGLAAttention", "linearize", "linearized_layers"]

SUPPORTED_FAMILIES = ("llama", "mistral", "qwen2", "qwen3")


def _padding_from_hf_mask(mask: Any, T: int) -> torch.Tensor | None:
    """A ``(B, T)`` padding mask from the 4-D mask transformers passes (None: no padding)."""
    if mask is None or not isinstance(mask, torch.Tensor):
        return None
    if mask.dim() == 2:
        return mask[:, -T:].bool()
    row = mask[:, 0, -1, :]  # what the last query may see: every real key
    keep = row if row.dtype == torch.bool else row == 0
    return keep[:, -T:]


class HFReGLAAttention(nn.Module):
    """Drop-in for a Llama-family ``self_attn``: ``forward(hidden_states (B, T, D), ...) -> (y, None)``."""

    def __init__(self, config: ReGLAConfig, layer_idx: int) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        self.regla = ReGLAAttention(config, layer_idx)

    def forward(
        self,
        hidden_states: torch.Tensor,
        position_embeddings: Any = None,
        attention_mask: torch.Tensor | None = None,
        cache: Any = None,
        past_key_values: Any = None,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, None]:
        cache = cache if cache is not None else past_key_values
        B, T, _ = hidden_states.shape
        pad = _padding_from_hf_mask(attention_mask, T)
        if pad is not None and bool(pad.all()):
            pad = None
        if cache is None:
            y, _ = self.regla(hidden_states, pad)
            return y, None
        states = cache.__dict__.setdefault("_regla_states", {})
        y, states[self.layer_idx] = self.regla(
            hidden_states, pad, states.get(self.layer_idx), use_cache=True
        )
        placeholder = hidden_states.new_zeros(B, 1, T, 1)
        cache.update(placeholder, placeholder, self.layer_idx)
        return y, None


def _decoder_layers(model: nn.Module) -> tuple[str, nn.ModuleList]:
    config = getattr(model, "config", None)
    family = getattr(config, "model_type", type(model).__name__)
    if family not in SUPPORTED_FAMILIES:
        raise UserError(
            f"model: family {family!r} is not supported; supported: {', '.join(SUPPORTED_FAMILIES)}"
        )
    inner = getattr(model, "model", model)
    layers = getattr(inner, "layers", None)
    if layers is None or not any(hasattr(layer, "self_attn") for layer in layers):
        raise UserError("model: has no attention layers to linearise (no layers[i].self_attn)")
    return family, layers


def linearized_layers(layers: str | list[int] | tuple[int, ...], n: int) -> list[int]:
    """Indices to replace: ``"all"``, ``"alternate"`` (odd indices, spec (g)) or a list."""
    if isinstance(layers, str):
        if layers not in ("all", "alternate"):
            raise UserError(
                f"layers: must be 'all', 'alternate' or a list of indices, got {layers!r}"
            )
        return [i for i, t in enumerate(resolve_layer_types(layers, n)) if t == "regla"]
    out = sorted(set(int(i) for i in layers))
    if not out or out[0] < 0 or out[-1] >= n:
        raise UserError(f"layers: indices must be in 0..{n - 1}, got {list(layers)}")
    return out


def linearize(
    model: nn.Module,
    config: ReGLAConfig | None = None,
    layers: str | list[int] = "all",
    init_from_softmax: bool = True,
) -> nn.Module:
    """Replace softmax attention with ReGLA layers, in place; returns ``model``.

    Args:
        model: a Llama-family ``*ForCausalLM`` or base model.
        config: the ReGLA options (feature map, gate, norm ...); width, heads and head dims
            are taken from the model.
        layers: which decoder layers to replace.
        init_from_softmax: copy W_q, W_k, W_v, W_o from the softmax layer (T2R, Kasai et al.
            2021); grouped K/V heads are repeated per query head.

    The chosen indices and config are stored as ``model.regla_layers`` / ``model.regla_config``.
    """
    _, decoder = _decoder_layers(model)
    hf = model.config
    H = hf.num_attention_heads
    head_dim = getattr(hf, "head_dim", None) or hf.hidden_size // H
    base = config or ReGLAConfig(hidden_size=hf.hidden_size, num_heads=H)
    cfg = base.replace(
        hidden_size=hf.hidden_size,
        num_heads=H,
        key_dim=head_dim,
        value_dim=head_dim,
        qkv_bias=bool(getattr(hf, "attention_bias", False))
        or getattr(hf, "model_type", "") == "qwen2",
    )
    idx = linearized_layers(layers, len(decoder))
    for i in idx:
        old = decoder[i].self_attn
        new = HFReGLAAttention(cfg, i)
        p = next(old.parameters())
        new.to(device=p.device, dtype=p.dtype)
        if init_from_softmax:
            _copy_projections(old, new.regla, H, head_dim)
        decoder[i].self_attn = new
    model.regla_layers = idx
    model.regla_config = cfg
    return model


@torch.no_grad()
def _copy_projections(old: nn.Module, new: ReGLAAttention, H: int, head_dim: int) -> None:
    groups = H // (old.k_proj.out_features // head_dim)
    for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
        src, dst = getattr(old, name), getattr(new, name)
        w = src.weight
        bias = src.bias
        if name in ("k_proj", "v_proj") and groups > 1:
            w = (
                w.view(-1, head_dim, w.shape[-1])
                .repeat_interleave(groups, 0)
                .reshape(-1, w.shape[-1])
            )
            if bias is not None:
                bias = bias.view(-1, head_dim).repeat_interleave(groups, 0).reshape(-1)
        dst.weight.copy_(w)
        if bias is not None and dst.bias is not None:
            dst.bias.copy_(bias)
