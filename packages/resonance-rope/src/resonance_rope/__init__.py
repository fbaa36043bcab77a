"""Resonance RoPE and the RoPE scaling family, with the PosGen benchmark.

``import resonance_rope`` is light: the configs import no torch, and torch-backed names are
imported on first use. It also makes every rope type of this package (``resonance_yarn``,
``dynamic_yarn``, ...) known to transformers, now or as soon as transformers loads its rope
module (:mod:`resonance_rope.autoregister`), so a model built from a config dict with
``rope_type: "resonance_yarn"`` needs no other call.
"""

from __future__ import annotations

import importlib
from typing import Any

from resonance_rope.autoregister import install as _install_hf_registration
from resonance_rope.config import (
    ROPE_TYPES,
    DecoderConfig,
    PosGenConfig,
    RopeConfig,
    TrainSettings,
)

_LAZY = {
    "compute_inv_freq": "resonance_rope.freqs",
    "compute_rope": "resonance_rope.freqs",
    "RopeFrequencies": "resonance_rope.freqs",
    "wavelengths": "resonance_rope.freqs",
    "critical_pair": "resonance_rope.freqs",
    "resonance_round": "resonance_rope.freqs",
    "feature_gap": "resonance_rope.freqs",
    "yarn_correction_range": "resonance_rope.freqs",
    "RotaryEmbedding": "resonance_rope.rotary",
    "apply_rotary": "resonance_rope.rotary",
    "register_hf_rope_types": "resonance_rope.hf",
    "patch_rope": "resonance_rope.hf",
    "use_exact_rotary": "resonance_rope.hf",
    "load_pretrained": "resonance_rope.hf",
    "make_posgen": "resonance_rope.posgen",
    "posgen_metrics": "resonance_rope.posgen",
    "PosGenDecoder": "resonance_rope.model",
    "run_posgen": "resonance_rope.posgen_runs",
}

_install_hf_registration()

__all__ = ["ROPE_TYPES", "DecoderConfig", "PosGenConfig", "RopeConfig", "TrainSettings", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'resonance_rope' has no attribute {name!r}")
