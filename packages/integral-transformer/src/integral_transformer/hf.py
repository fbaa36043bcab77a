"""Hugging Face integration: Integral attention as a registered attention function.

``register_integral_attention()`` adds ``"integral"`` to ``transformers.AttentionInterface``
(and the SDPA mask builder to ``AttentionMaskInterface``). ``apply_integral(model, config)``
writes the method's fields into ``model.config`` (``integral_num_signals``,
``integral_layers``, ``integral_rope_mode``, ``integral_signal_space``) and switches the
model to it. The attention function then runs, per layer:

- layers outside ``integral_layers``: transformers' own SDPA attention, unchanged;
- Integral layers with ``rope_mode="signal"``: the q/k it receives were rotated by the
  model with the head-level ladder, so it rotates them back (exact: a rotation's inverse is
  its transpose) and applies per-signal RoPE with the d_h ladder at the same positions,
  then one SDPA call with ``scale = 1 / (S sqrt(d_h))`` (spec, equivalence 2);
- ``rope_mode="head"``: only the scale changes (Integral = vanilla at temperature sqrt(S)).

Positions come from the ``position_ids`` transformers passes down; keys read from a KV cache
are taken to sit at consecutive positions ending at the last query (true for ``generate``
with left or no padding).
"""

from __future__ import annotations

import math
import warnings

import torch
from papershelf.errors import UserError

from integral_transformer.config import IntegralConfig, select_layers
from integral_transformer.functional import (
    _prob_weights,
    apply_signal_rope,
    build_mask,
    rope_cos_sin,
    rotate_half,
    signal_rope,
)

__all__ = [
    "SUPPORTED_MODEL_TYPES",
    "apply_integral",
    "copy_llama_weights",
    "integral_attention_forward",
    "register_integral_attention",
]

SUPPORTED_MODEL_TYPES = ("llama", "mistral", "qwen2", "qwen3")
NAME = "integral"


def register_integral_attention() -> None:
    """Register ``"integral"`` with ``AttentionInterface`` and ``AttentionMaskInterface``."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, integral_attention_forward)
    AttentionMaskInterface.register(NAME, sdpa_mask)


def _rope_theta(config) -> float:
    params = getattr(config, "rope_parameters", None) or {}
    rope_type = params.get("rope_type", "default")
    if rope_type != "default":
        raise UserError(
            f"rope_parameters.rope_type: per-signal RoPE supports 'default' only, got {rope_type!r}; "
            "use rope_mode='head'"
        )
    return float(params.get("rope_theta", getattr(config, "rope_theta", 10000.0)))


def _key_positions(pos_q: torch.Tensor, t_k: int) -> torch.Tensor:
    if pos_q.shape[-1] == t_k:
        return pos_q
    return pos_q[:, -1:] - (t_k - 1) + torch.arange(t_k, device=pos_q.device)


def _resignal(x: torch.Tensor, pos: torch.Tensor, num_signals: int, theta: float) -> torch.Tensor:
    """Undo the model's head-level rotation of ``x (B, H, T, D)`` at ``pos (B|1, T)`` and apply
    per-signal RoPE instead."""
    d = x.shape[-1]
    cos, sin = rope_cos_sin(pos, d, theta, x.dtype)
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    raw = x * cos - rotate_half(x) * sin
    scos, ssin = signal_rope(pos, d, num_signals, theta, x.dtype)
    return apply_signal_rope(raw, scos, ssin, num_signals)


def integral_attention_forward(
    module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs,
):
    """The ``AttentionInterface`` function: ``query (B, H, T_q, D)``, ``key``/``value``
    ``(B, H_kv, T_k, D)`` (already rotated by the model) -> ``(out (B, T_q, H, D), weights)``."""
    from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward

    cfg = module.config
    layers = getattr(cfg, "integral_layers", None)
    if layers is None:
        raise UserError(
            "model.config: has no integral_layers; call apply_integral(model, config) first"
        )
    if module.layer_idx not in layers:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )
    s = int(cfg.integral_num_signals)
    d_h = query.shape[-1] // s
    if cfg.integral_rope_mode == "signal":
        pos = kwargs.get("position_ids")
        if pos is None:
            raise UserError("position_ids: Integral attention with rope_mode='signal' needs them")
        pos = pos if pos.dim() == 2 else pos[None]
        theta = _rope_theta(cfg)
        query = _resignal(query, pos, s, theta)
        key = _resignal(key, _key_positions(pos, key.shape[2]), s, theta)
    scale = 1.0 / (s * math.sqrt(d_h))
    if cfg.integral_signal_space == "logit":
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, scaling=scale, dropout=dropout, **kwargs
        )
    mask = attention_mask
    if mask is None:
        mask = build_mask(None, query.shape[2] > 1, query.shape[2], key.shape[2], query.device)
    elif mask.dtype != torch.bool:
        mask = mask == 0
    groups = query.shape[1] // key.shape[1]
    weights = _prob_weights(query, repeat_kv(key, groups), s, False, mask)
    out = weights @ repeat_kv(value, groups)
    return out.transpose(1, 2).contiguous(), weights


def apply_integral(model, config: IntegralConfig, force: bool = False):
    """Switch a Llama-family model (Llama, Mistral, Qwen2, Qwen3) to Integral attention in the
    layers ``config.layers`` selects; returns the model (changed in place; state dict keys
    and parameter count unchanged).

    The method changes the attention function and is meant for pretraining from scratch;
    on a model loaded from pretrained weights it warns unless ``force``.
    """
    cfg = model.config
    model_type = getattr(cfg, "model_type", "")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise UserError(
            f"model: family {model_type!r} is not supported; supported: {', '.join(SUPPORTED_MODEL_TYPES)}"
        )
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    config.check_head_dim(head_dim)
    if config.rope_mode == "signal":
        _rope_theta(cfg)
    layers = select_layers(config.layers, cfg.num_hidden_layers)
    if getattr(cfg, "_name_or_path", "") and not force:
        warnings.warn(
            "apply_integral: this model was loaded from pretrained weights; Integral attention "
            "changes the attention function and is meant for pretraining from scratch "
            "(pass force=True to silence this)",
            UserWarning,
            stacklevel=2,
        )
    cfg.integral_num_signals = config.num_signals
    cfg.integral_layers = list(layers)
    cfg.integral_rope_mode = config.rope_mode
    cfg.integral_signal_space = config.signal_space
    register_integral_attention()
    model.set_attn_implementation(NAME)
    return model


def copy_llama_weights(hf_model, lm) -> None:
    """Load a ``LlamaForCausalLM``'s weights into an ``IntegralLM`` of the same shape (keys
    mapped by dropping the ``model.`` prefix)."""
    state = {k.removeprefix("model."): v for k, v in hf_model.state_dict().items()}
    missing, unexpected = lm.load_state_dict(state, strict=False)
    missing = [k for k in missing if k != "lm_head.weight"]
    if missing or unexpected:
        raise UserError(
            f"model: shapes differ from the IntegralLM: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
