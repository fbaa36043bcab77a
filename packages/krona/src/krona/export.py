"""Export plain KronA to a PEFT LoKr adapter folder (``PeftModel.from_pretrained`` loads it).

PEFT LoKr's ``ΔW = (alpha/r)·kron(lokr_w1, lokr_w2)`` with ``lokr_w1: (out_l, in_m)`` and
``lokr_w2: (out_k, in_n)`` from PEFT's ``factorization(out / in, decompose_factor)``; ``w2``
is stored whole (not low-rank) when ``r ≥ max(out_k, in_n)/2``. So our ``A ≡ lokr_w1``,
``B ≡ lokr_w2``, ``r = ⌈max(b1, b2)/2⌉`` (the largest over modules) and ``alpha = s·r``.
Needs ``peft`` (``uv sync --group bench-krona``).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from papershelf import adapters

from krona.errors import KronAError
from krona.layer import NOT_MERGEABLE

if TYPE_CHECKING:
    from krona.model import KronAModel

__all__ = ["export_peft_lokr"]


def export_peft_lokr(model: KronAModel, folder: str | Path) -> Path:
    """Write ``model``'s adapters as a PEFT LoKr adapter to ``folder``; refuse what LoKr cannot express."""
    try:
        import peft
        from peft.tuners.lokr.layer import factorization as peft_factorization
    except ImportError:
        raise KronAError(
            "export: PEFT LoKr export needs peft (uv sync --group bench-krona)"
        ) from None
    cfg = model.krona_config
    if cfg.variant != "linear":
        raise KronAError("export: " + NOT_MERGEABLE.format(v=cfg.variant))
    mods = model.krona_modules()
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
    lokr_cfg = peft.LoKrConfig(
        r=r,
        alpha=cfg.scale * r,
        decompose_factor=factor,
        decompose_both=False,
        target_modules=list(mods),
        modules_to_save=cfg.modules_to_save,
    )
    plain = copy.deepcopy(model).unload()
    pm = peft.get_peft_model(plain, lokr_cfg)
    inner = pm.base_model.model
    with torch.no_grad():
        for name, m in mods.items():
            target = inner.get_submodule(name)
            target.lokr_w1["default"].copy_(m.krona_A)
            target.lokr_w2["default"].copy_(m.krona_B)
        for pattern in cfg.modules_to_save or []:
            for name, module in model.model.named_modules():
                if adapters.name_matches(name, [pattern]):
                    wrapper = inner.get_submodule(name)
                    wrapper.modules_to_save["default"].load_state_dict(module.state_dict())
    pm.save_pretrained(str(folder))
    return Path(folder)
