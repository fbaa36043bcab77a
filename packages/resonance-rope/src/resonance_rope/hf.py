"""Hugging Face integration: rope types in ``ROPE_INIT_FUNCTIONS``, patching, exact rotary.

``import resonance_rope`` registers the types (:mod:`resonance_rope.autoregister`; calling
``register_hf_rope_types()`` by hand is idempotent), so a config with
``rope_parameters={"rope_type": "resonance_yarn", "factor": 4, "original_max_position_embeddings": 64}``
builds a model that uses our frequencies. transformers' own rotary forward computes
``t * inv_freq`` in float32, which is not exactly periodic at large t; ``use_exact_rotary(model)``
swaps in ``RotaryEmbedding`` (integer-modular angles) for the families in
:data:`EXACT_FAMILIES` (Llama, Mistral, Qwen2, Qwen3, GPT-NeoX: one rotary module per model,
one rope type for every layer, cos/sin of shape ``(B, T, d_rot)``).

Dynamic types (``dynamic``, ``dynamic_yarn`` and their ``resonance_`` forms) follow
transformers' protocol: the table built at init (``seq_len=None``: s = 1, plain RoPE) serves
every length up to ``max_position_embeddings``, and a longer input recomputes it with
``seq_len``. For ``dynamic_yarn`` set ``max_position_embeddings`` to the original length
(``original_max_position_embeddings``), as for transformers' own ``dynamic``: lengths between
the two would otherwise keep the unscaled table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from resonance_rope.config import BASE_TYPES, ROPE_TYPES, RopeConfig
from resonance_rope.freqs import compute_inv_freq
from resonance_rope.rotary import RotaryEmbedding

#: rope types transformers already ships (we leave them alone).
HF_NATIVE = ("default", "linear", "dynamic", "yarn")
#: rope types ``register_hf_rope_types`` adds.
REGISTERED_TYPES = tuple(t for t in ROPE_TYPES if t not in HF_NATIVE)
EXACT_FAMILIES = ("llama", "mistral", "qwen2", "qwen3", "gpt_neox")


def _make_init_fn(name: str):
    def init_fn(
        config: Any, device: Any = None, seq_len: Any = None, layer_type: str | None = None
    ):
        cfg = RopeConfig.from_hf(config, layer_type)
        n = int(seq_len) if seq_len is not None else None
        inv_freq, attention_factor = compute_inv_freq(cfg, n)
        return inv_freq.to(device) if device is not None else inv_freq, attention_factor

    init_fn.__name__ = f"_compute_{name}_parameters"
    init_fn.__qualname__ = init_fn.__name__
    init_fn.resonance_rope_type = name  # type: ignore[attr-defined]
    return init_fn


def register_hf_rope_types() -> tuple[str, ...]:
    """Add ``ntk``, ``dynamic_yarn`` and every ``resonance*`` type to transformers' registry.

    Idempotent; refuses to overwrite a different function already registered under one of
    these names. Dynamic names contain ``"dynamic"``, so transformers' ``dynamic_rope_update``
    recomputes them as the sequence grows. Returns the names registered.
    """
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    for name in REGISTERED_TYPES:
        existing = ROPE_INIT_FUNCTIONS.get(name)
        if existing is not None and getattr(existing, "resonance_rope_type", None) != name:
            raise ValueError(
                f"rope_type: {name!r} is already registered in transformers by {existing!r}"
            )
        if existing is None:
            ROPE_INIT_FUNCTIONS[name] = _make_init_fn(name)
    return REGISTERED_TYPES


def _rotary_modules(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [
        m for m in model.modules() if hasattr(m, "inv_freq") and hasattr(m, "attention_scaling")
    ]


def patch_rope(model: torch.nn.Module, **rope_parameters: Any) -> torch.nn.Module:
    """Set ``model.config.rope_parameters`` and rebuild every rotary module's frequencies in place.

    ``rope_parameters`` are the Hugging Face keys (``rope_type``, ``factor``,
    ``original_max_position_embeddings``, ``beta_fast``, ...); ``rope_theta`` defaults to the
    model's. Our own ``RotaryEmbedding`` modules are replaced by a fresh one.
    """
    config = model.config
    old = dict(getattr(config, "rope_parameters", None) or {})
    params = {
        "rope_theta": old.get("rope_theta", getattr(config, "rope_theta", 10000.0)),
        **rope_parameters,
    }
    params.setdefault("rope_type", "default")
    if "partial_rotary_factor" in old:
        params.setdefault("partial_rotary_factor", old["partial_rotary_factor"])
    config.rope_parameters = params
    cfg = RopeConfig.from_hf(config)
    if cfg.rope_type in ("default",) and not cfg.resonance:
        params.pop("factor", None)
    register_hf_rope_types()
    inv_freq, attention_factor = compute_inv_freq(cfg)
    parents = [
        m for m in model.modules() if any(isinstance(c, RotaryEmbedding) for c in m.children())
    ]
    for parent in parents:
        for child_name, child in list(parent.named_children()):
            if isinstance(child, RotaryEmbedding):
                device = child.inv_freq.device
                setattr(parent, child_name, RotaryEmbedding(cfg, child.cached_len).to(device))
    for module in _rotary_modules(model):
        if isinstance(module, RotaryEmbedding):
            continue
        device = module.inv_freq.device
        module.rope_type = cfg.type_name
        module.inv_freq = inv_freq.to(device)
        if hasattr(module, "original_inv_freq"):
            module.original_inv_freq = inv_freq.clone().to(device)
        module.attention_scaling = attention_factor
        if hasattr(module, "max_seq_len_cached"):
            module.max_seq_len_cached = config.max_position_embeddings
            module.original_max_seq_len = config.max_position_embeddings
    return model


def use_exact_rotary(model: torch.nn.Module, max_positions: int | None = None) -> torch.nn.Module:
    """Replace the model's rotary module by ``RotaryEmbedding`` (exact periodicity), in place.

    Supported: the :data:`EXACT_FAMILIES` (Llama, Mistral, Qwen2, Qwen3, GPT-NeoX: a single
    ``rotary_emb`` whose ``forward(x, position_ids)`` returns cos/sin ``(B, T, d_rot)``, with
    partial rotary for GPT-NeoX). Other families raise ``ValueError``.
    """
    model_type = getattr(model.config, "model_type", "")
    if model_type not in EXACT_FAMILIES:
        raise ValueError(
            f"model_type: use_exact_rotary supports {', '.join(EXACT_FAMILIES)}, got {model_type!r}; "
            "use patch_rope (transformers' own forward) instead"
        )
    found = [
        (name, m)
        for name, m in model.named_modules()
        if name.endswith("rotary_emb") and hasattr(m, "inv_freq")
    ]
    if not found:
        raise ValueError(f"model: {type(model).__name__} has no rotary_emb to replace")
    cfg = RopeConfig.from_hf(model.config)
    for name, old in found:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        device = old.inv_freq.device
        new = RotaryEmbedding(cfg, max_positions or model.config.max_position_embeddings)
        setattr(parent, child, new.to(device))
    return model


def hf_rotary_features(
    rope_parameters: dict[str, Any], head_dim: int, length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin (length, head_dim / 2) float32 of positions 0 .. length-1, as transformers makes
    them: ``LlamaRotaryEmbedding.forward`` (t * inv_freq in float32) of a one-head Llama config
    with these ``rope_parameters`` (``rope_theta`` defaults to 1e4). Pair j is column j ("half"
    layout); the attention factor is included, as in transformers."""
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    register_hf_rope_types()
    params = {"rope_theta": 1e4, **rope_parameters}
    config = LlamaConfig(
        hidden_size=head_dim,
        num_attention_heads=1,
        num_key_value_heads=1,
        head_dim=head_dim,
        intermediate_size=8,
        num_hidden_layers=1,
        vocab_size=8,
        max_position_embeddings=max(length, params.get("original_max_position_embeddings") or 0),
        rope_parameters=params,
    )
    rotary = LlamaRotaryEmbedding(config)
    with torch.no_grad():
        cos, sin = rotary(torch.zeros(1, dtype=torch.float32), torch.arange(length)[None])
    half = head_dim // 2
    return cos[0, :, :half], sin[0, :, :half]


def load_pretrained(path: str | Path, **kwargs: Any):
    """Register our rope types, then ``AutoModelForCausalLM.from_pretrained(path, **kwargs)``.

    ``path`` must be a local folder (these machines reach no model hub).
    """
    from transformers import AutoModelForCausalLM

    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"path: {folder} is not a model folder (no config.json)")
    register_hf_rope_types()
    return AutoModelForCausalLM.from_pretrained(folder, **kwargs)


__all__ = [
    "BASE_TYPES",
    "REGISTERED_TYPES",
    "hf_rotary_features",
    "load_pretrained",
    "patch_rope",
    "register_hf_rope_types",
    "use_exact_rotary",
]
