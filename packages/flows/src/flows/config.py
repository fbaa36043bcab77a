"""``FlowConfig``: the validated description of a flow that the CLI builds, saves and loads.

A saved flow is a folder with ``model.safetensors`` and ``model_config.json`` (the config,
plus the data scaler) written atomically by ``papershelf.checkpoint``.

``FlowConfig`` is a ``papershelf.config.Config``: ``from_dict`` refuses unknown keys (with
the known ones listed) where the hand-written version of ``flows`` 0.1 dropped them silently.
Saved folders stay loadable: every version wrote exactly the fields below, so only a
hand-edited ``model_config.json`` with a misspelt or foreign key is now refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papershelf.config import Config, check_choice, check_range
from papershelf.errors import UserError

__all__ = ["ARCHS", "FlowConfig", "build_flow", "load_flow", "parse_group", "save_flow"]

ARCHS = (
    "maf",
    "iaf",
    "nsf",
    "nsf-coupling",
    "realnvp",
    "nice",
    "planar",
    "radial",
    "resflow",
    "gresflow",
    "gcoupling",
    "giaf",
)
BASES = ("normal", "student-t")
DFS = ("shared", "per-dim")
G_ARCHS = ("gresflow", "gcoupling", "giaf")


def parse_group(name: str):
    """``"C4"``, ``"D4"``, ``"Flip"``, ``"Perm3"`` -> a group object."""
    from flows import groups

    m = re.fullmatch(r"(C|D|Perm)(\d+)|Flip", name.strip())
    if not m:
        raise UserError(f"group: must look like C4, D4, Flip or Perm3, got {name!r}")
    if name.strip() == "Flip":
        return groups.Flip()
    kind, n = m.group(1), int(m.group(2))
    return {"C": groups.C, "D": groups.D, "Perm": groups.Perm}[kind](n)


@dataclass
class FlowConfig(Config):
    """Architecture and base of a flow (validated on construction).

    ``to_dict``/``from_dict``/``to_json``/``from_json`` come from ``papershelf.config.Config``:
    an unknown key is refused with the list of known fields. Folders saved by earlier
    versions of ``flows`` still load: their ``model_config.json`` holds exactly these fields
    (the older ``from_dict`` dropped unknown keys silently, but none was ever written).
    """

    features: int
    arch: str = "maf"
    base: str = "normal"
    df: str = "shared"
    df_init: float = 10.0
    df_min: float = 0.5
    transforms: int = 5
    hidden: tuple[int, ...] = field(default=(64, 64))
    bins: int = 8
    bound: float = 4.0
    group: str | None = None
    context: int = 0

    def __post_init__(self) -> None:
        self.hidden = tuple(int(h) for h in self.hidden)
        super().__post_init__()

    def validate(self) -> None:
        _check_count("features", self.features)
        check_choice("arch", self.arch, ARCHS)
        check_choice("base", self.base, BASES)
        check_choice("df", self.df, DFS)
        _check_count("transforms", self.transforms)
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise UserError(f"hidden: must be positive sizes like 64,64, got {self.hidden}")
        if self.arch in ("nsf", "nsf-coupling") and self.bins < 2:
            raise UserError(f"bins: a spline needs bins >= 2, got {self.bins}")
        if self.arch in G_ARCHS:
            if self.group is None:
                raise UserError(f"group: arch {self.arch} needs --group (e.g. C4, D4, Perm3)")
            if self.base != "normal":
                raise UserError("base: equivariant flows need the invariant 'normal' base")
            parse_group(self.group).check(self.features)
        elif self.group is not None:
            raise UserError(f"group: only {', '.join(G_ARCHS)} take a group, not {self.arch}")


def _check_count(field_name: str, value: object) -> None:
    """An integer >= 1 (``check_range`` would also let ``2.5`` through)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"{field_name}: must be an integer >= 1, got {value!r}")
    check_range(field_name, value, low=1)


def build_flow(config: FlowConfig):
    """The ``flows.Flow`` a config describes."""
    import flows
    from flows.distributions import DiagNormal, StudentT

    c = config
    d = c.features
    base = (
        StudentT(
            d, df="shared" if c.df == "shared" else "per_dim", df_init=c.df_init, df_min=c.df_min
        )
        if c.base == "student-t"
        else DiagNormal(d)
    )
    if c.arch in G_ARCHS:
        group = parse_group(c.group)
        cls = {"gresflow": flows.GResFlow, "gcoupling": flows.GCoupling, "giaf": flows.GIAF}[c.arch]
        return cls(d, group, transforms=c.transforms, hidden=c.hidden)
    if c.arch == "maf":
        return flows.MAF(d, c.context, c.transforms, c.hidden, base=base)
    if c.arch == "iaf":
        return flows.IAF(d, c.context, c.transforms, c.hidden, base=base)
    if c.arch in ("nsf", "nsf-coupling"):
        mode = "autoregressive" if c.arch == "nsf" else "coupling"
        return flows.NSF(
            d, c.context, c.transforms, c.hidden, c.bins, c.bound, mode=mode, base=base
        )
    if c.arch == "realnvp":
        return flows.RealNVP(d, c.context, c.transforms, c.hidden, base=base)
    if c.arch == "nice":
        return flows.NICE(d, c.context, c.transforms, c.hidden, base=base)
    if c.arch == "planar":
        return flows.PlanarFlow(d, c.transforms, base=base)
    if c.arch == "radial":
        return flows.RadialFlow(d, c.transforms, base=base)
    return flows.ResFlow(d, c.transforms, c.hidden, base=base)


def save_flow(
    folder: str | Path, flow, config: FlowConfig, extra: dict[str, Any] | None = None
) -> Path:
    """Write ``model.safetensors`` + ``model_config.json`` (config and ``extra``) atomically."""
    from papershelf.checkpoint import save_weights

    meta = {"flow": config.to_dict(), **(extra or {})}
    return save_weights(folder, flow.state_dict(), meta)


def load_flow(folder: str | Path):
    """``(flow, config, meta)`` from a folder written by :func:`save_flow` (eval mode)."""
    from papershelf.checkpoint import load_config, load_weights

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"model: {folder} is not a folder written by `flows fit`")
    meta = load_config(folder)
    if meta is None or "flow" not in meta:
        raise UserError(f"model: {folder} has no model_config.json with a 'flow' entry")
    config = FlowConfig.from_dict(meta["flow"])
    flow = build_flow(config)
    expected = flow.state_dict()
    state, _ = load_weights(folder, expected_keys=expected.keys())
    for key, value in state.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            raise UserError(
                f"model: {folder}: weight {key} has shape {tuple(value.shape)} but "
                f"model_config.json describes {tuple(expected[key].shape)} (features "
                f"{config.features}); the config does not match the weights"
            )
    flow.load_state_dict(state)
    flow.eval()
    return flow, config, meta
