"""Plain KronA as a PEFT LoKr adapter (``KronAModel.export_peft(dir)`` writes it;
``peft.PeftModel.from_pretrained`` loads it and computes our logits).

PEFT LoKr's ``ΔW = (alpha/r)·kron(lokr_w1, lokr_w2)`` with ``lokr_w1: (out_l, in_m)`` and
``lokr_w2: (out_k, in_n)`` from PEFT's ``factorization(out / in, decompose_factor)``; ``w2``
is stored whole (not low-rank) when ``r ≥ max(out_k, in_n)/2``. So our ``A ≡ lokr_w1``,
``B ≡ lokr_w2``, ``r = ⌈max(b1, b2)/2⌉`` (the largest over modules) and ``alpha = s·r``.
The tensors are ours, bit for bit, under PEFT's keys ``base_model.model.<module>.lokr_w1`` /
``.lokr_w2``; the config is ``peft.LoKrConfig``'s own. Needs ``peft`` (``uv sync --group
bench-krona``) for that config and PEFT's factorisation rule.

Renamed: ``export_peft_lokr(model, dir)`` -> ``model.export_peft(dir)`` (the function warns
with ``DeprecationWarning`` for one release).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from papershelf.adapters import ADAPTER_KEY_PREFIX

from krona.errors import KronAError
from krona.layer import NOT_MERGEABLE

if TYPE_CHECKING:
    from krona.model import KronAModel

__all__ = ["export_peft_lokr", "peft_lokr_adapter"]


def peft_lokr_adapter(model: KronAModel) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(tensors, config)`` of ``model``'s adapters as PEFT LoKr; refuse what LoKr cannot express."""
    try:
        import peft
        from peft.tuners.lokr.layer import factorization as peft_factorization
    except ImportError:
        raise KronAError(
            "export: PEFT LoKr export needs peft (uv sync --group bench-krona)"
        ) from None
    cfg = model.adapter_config
    if cfg.variant != "linear":
        raise KronAError("export: " + NOT_MERGEABLE.format(v=cfg.variant))
    mods = model.krona_modules()
    conv = sorted(n for n, m in mods.items() if getattr(m, "fan_in_fan_out", False))
    if conv:
        raise KronAError(
            f"export: {conv[0]!r} is a GPT-2 Conv1D; PEFT LoKr adapts nn.Linear and Conv2d only "
            "(save_pretrained keeps the KronA adapter)"
        )
    factor = cfg.factor
    for name, m in mods.items():
        (a1, a2), (b1, b2) = m.shapes
        want_out, want_in = (
            peft_factorization(m.out_features, factor),
            peft_factorization(m.in_features, factor),
        )
        if (a1, b1) != tuple(want_out) or (a2, b2) != tuple(want_in):
            raise KronAError(
                f"export: {name} has A={a1}x{a2}, B={b1}x{b2}; PEFT LoKr (decompose_factor={factor}) can only "
                f"express A={want_out[0]}x{want_in[0]}, B={want_out[1]}x{want_in[1]}"
            )
    r = max(math.ceil(max(m.shapes[1]) / 2) for m in mods.values())
    lokr = peft.LoKrConfig(
        r=r,
        alpha=cfg.scale * r,
        decompose_factor=factor,
        decompose_both=False,
        target_modules=sorted(mods),
        modules_to_save=cfg.modules_to_save,
    )
    config = lokr.to_dict()
    config["target_modules"] = sorted(mods)
    tensors: dict[str, torch.Tensor] = {}
    for name, m in mods.items():
        tensors[f"{ADAPTER_KEY_PREFIX}{name}.lokr_w1"] = m.krona_A
        tensors[f"{ADAPTER_KEY_PREFIX}{name}.lokr_w2"] = m.krona_B
    return tensors, config


def export_peft_lokr(model: KronAModel, folder: str | Path) -> Path:
    """Deprecated: ``model.export_peft(folder)``."""
    warnings.warn(
        "krona.export.export_peft_lokr(model, dir) is deprecated and will be removed in the next "
        "release; use model.export_peft(dir)",
        DeprecationWarning,
        stacklevel=2,
    )
    return model.export_peft(folder)
