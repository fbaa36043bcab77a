"""``FlowConfig``: the validated description of a flow that the CLI builds, saves and loads.

A saved flow is a folder with ``model.safetensors`` and ``model_config.json`` (the config,
plus the data scaler) written atomically by ``papershelf.checkpoint``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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
class FlowConfig:
    """Architecture and base of a flow (validated on construction)."""

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
        if not isinstance(self.features, int) or self.features < 1:
            raise UserError(f"features: must be an integer >= 1, got {self.features!r}")
        if self.arch not in ARCHS:
            raise UserError(f"arch: must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        if self.base not in BASES:
            raise UserError(f"base: must be 'normal' or 'student-t', got {self.base!r}")
        if self.df not in ("shared", "per-dim"):
            raise UserError(f"df: must be 'shared' or 'per-dim', got {self.df!r}")
        if not isinstance(self.transforms, int) or self.transforms < 1:
            raise UserError(f"transforms: must be an integer >= 1, got {self.transforms!r}")
        if any(h < 1 for h in self.hidden) or not self.hidden:
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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FlowConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


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
    state, _ = load_weights(folder, expected_keys=flow.state_dict().keys())
    flow.load_state_dict(state)
    flow.eval()
    return flow, config, meta
