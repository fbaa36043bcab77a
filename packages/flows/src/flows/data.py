"""Toy densities, the heavy-tailed target, CSV reading and robust standardisation.

All generators return ``(n, D)`` float tensors and take a ``torch.Generator``.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from papershelf.errors import UserError
from torch import Tensor

__all__ = [
    "CHECKERBOARD_ENTROPY",
    "DegenerateColumnWarning",
    "RobustScaler",
    "check_columns",
    "checkerboard",
    "eight_gaussians",
    "independent_t",
    "moons",
    "read_csv",
    "rings",
    "rotated_t2",
    "toy",
    "write_csv",
]

CHECKERBOARD_ENTROPY = math.log(32.0)  # uniform on 8 squares of area 4


def checkerboard(n: int, generator: torch.Generator | None = None) -> Tensor:
    """Uniform on the 8 black squares of side 2 of a 4x4 board on ``[-4, 4]^2``
    (total area 32, entropy ``log 32 = 3.466`` nats)."""
    x1 = torch.rand(n, generator=generator) * 8 - 4
    col = torch.floor((x1 + 4) / 2)
    row = torch.randint(0, 2, (n,), generator=generator) * 2 + (col % 2)
    x2 = row * 2 - 4 + torch.rand(n, generator=generator) * 2
    return torch.stack([x1, x2], -1)


def eight_gaussians(
    n: int,
    generator: torch.Generator | None = None,
    radius: float = 4 / 1.414,
    std: float = 0.5 / 1.414,
) -> Tensor:
    """Eight Gaussians at angles ``k pi/4`` on a circle (a D8-invariant density)."""
    k = torch.randint(0, 8, (n,), generator=generator).double()
    centers = radius * torch.stack([torch.cos(k * math.pi / 4), torch.sin(k * math.pi / 4)], -1)
    return (centers + std * torch.randn(n, 2, generator=generator, dtype=torch.float64)).float()


def rings(n: int, generator: torch.Generator | None = None) -> Tensor:
    """Four concentric rings of radii 1..4 (noise 0.08)."""
    r = torch.randint(1, 5, (n,), generator=generator).float()
    t = torch.rand(n, generator=generator) * 2 * math.pi
    pts = r[:, None] * torch.stack([torch.cos(t), torch.sin(t)], -1)
    return pts + 0.08 * torch.randn(n, 2, generator=generator)


def moons(n: int, generator: torch.Generator | None = None, noise: float = 0.05) -> Tensor:
    """Two interleaved half circles (as ``sklearn.datasets.make_moons``), scaled by 2."""
    half = torch.randint(0, 2, (n,), generator=generator).float()
    t = torch.rand(n, generator=generator) * math.pi
    x = torch.where(half == 0, torch.cos(t), 1 - torch.cos(t))
    y = torch.where(half == 0, torch.sin(t), 0.5 - torch.sin(t))
    pts = torch.stack([x - 0.5, y - 0.25], -1) * 2
    return pts + noise * 2 * torch.randn(n, 2, generator=generator)


TOYS = {"checkerboard": checkerboard, "8gaussians": eight_gaussians, "rings": rings, "moons": moons}


def toy(name: str, n: int, generator: torch.Generator | None = None) -> Tensor:
    if name not in TOYS:
        raise UserError(f"dataset: must be one of {', '.join(TOYS)}, got {name!r}")
    return TOYS[name](n, generator)


def rotation_q(d: int = 2, seed: int = 1234) -> Tensor:
    """A fixed random orthogonal matrix ``(d, d)`` (QR of a Gaussian matrix)."""
    g = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))


def rotated_t2(
    n: int,
    generator: torch.Generator | None = None,
    q: Tensor | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """``Q u`` with ``u`` two independent t_2 marginals and ``Q = rotation_q()``."""
    q = rotation_q() if q is None else q
    normal = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    chi2 = (
        torch._standard_gamma(torch.full((n, 2), 1.0, dtype=torch.float64), generator=generator) * 2
    )
    u = normal / torch.sqrt(chi2 / 2)
    return (u @ q.t()).to(dtype)


def independent_t(
    n: int,
    df: tuple[float, ...] | list[float],
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """``(n, len(df))`` independent Student-t marginals, column ``i`` with ``df[i]`` degrees of
    freedom: ``N / sqrt(chi2_nu / nu)`` with ``chi2_nu = 2 Gamma(nu / 2)``."""
    nu = torch.tensor([float(v) for v in df], dtype=torch.float64)
    if nu.ndim != 1 or len(nu) < 1 or bool((nu <= 0).any()):
        raise UserError(f"df: must be positive degrees of freedom, got {list(df)}")
    normal = torch.randn(n, len(nu), generator=generator, dtype=torch.float64)
    chi2 = torch._standard_gamma((nu / 2).expand(n, -1).contiguous(), generator=generator) * 2
    return (normal / torch.sqrt(chi2 / nu)).to(dtype)


@dataclass
class RobustScaler:
    """``(x - median) / (1.4826 MAD)`` per column (robust to heavy tails)."""

    center: Tensor
    scale: Tensor

    @classmethod
    def fit(cls, x: Tensor) -> RobustScaler:
        med = x.median(0).values
        mad = (x - med).abs().median(0).values * 1.4826
        return cls(med, mad.clamp_min(1e-8))

    def transform(self, x: Tensor) -> Tensor:
        return (x - self.center) / self.scale

    def inverse(self, z: Tensor) -> Tensor:
        return z * self.scale + self.center

    def log_abs_det(self) -> float:
        """``log|d transform / dx|`` (add to a density fitted on scaled data)."""
        return float(-self.scale.log().sum())


def read_csv(path: str | Path, features: int | None = None) -> Tensor:
    """Read a numeric CSV (optional header) into ``(n, D)`` float32.

    Raises a one-line ``UserError`` naming the line for a non-numeric cell, NaN/inf,
    or a row whose column count differs from the first row (or from ``features``).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data: file {path} does not exist")
    rows: list[list[float]] = []
    width = features
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(
            f"data: {path}:{line}: not UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as "
            "UTF-8 text"
        ) from None
    # csv splits records on \n and \r only (never on U+2028 and the like)
    with io.StringIO(text, newline="") as handle:
        for lineno, row in enumerate(csv.reader(handle), start=1):
            if not row or all(not c.strip() for c in row):
                continue
            try:
                values = [float(c) for c in row]
            except ValueError:
                if lineno == 1 and not rows:
                    continue  # header
                bad = next(c for c in row if not _is_float(c))
                raise UserError(f"data: {path}:{lineno}: non-numeric value {bad!r}") from None
            if width is None:
                width = len(values)
            if len(values) != width:
                raise UserError(
                    f"data: {path}:{lineno}: expected {width} columns, got {len(values)}"
                )
            for col, v in enumerate(values, start=1):
                if not math.isfinite(v):
                    raise UserError(
                        f"data: {path}:{lineno}: column {col} is {v} (NaN/inf not allowed)"
                    )
            rows.append(values)
    if not rows:
        raise UserError(f"data: {path} has no numeric rows")
    return torch.tensor(rows, dtype=torch.float32)


class DegenerateColumnWarning(UserWarning):
    """A data column has an atom (one value repeated in many rows): a continuous density
    puts unbounded density there, so its NLL is not meaningful."""


ATOM_REFUSE = 0.5  # a value in at least this share of a column's rows: refused (MAD is 0)
ATOM_WARN = 0.05  # ... in at least this share: DegenerateColumnWarning


def check_columns(x: Tensor, path: str | Path = "data") -> None:
    """Refuse constant columns and columns where one value fills >= 50 % of the rows (the
    robust scale, 1.4826 MAD, is 0 there and a flow's likelihood is unbounded); warn
    (``DegenerateColumnWarning``) when one value fills >= 5 % of a column's rows."""
    n = x.shape[0]
    for col in range(x.shape[1]):
        values, counts = torch.unique(x[:, col], return_counts=True)
        top = int(counts.argmax())
        share = float(counts[top]) / n
        value = float(values[top])
        if len(values) == 1:
            raise UserError(
                f"data: {path}: column {col + 1} is constant ({value:g} in all {n} rows); a "
                "density over it is degenerate: drop the column"
            )
        if share >= ATOM_REFUSE:
            raise UserError(
                f"data: {path}: column {col + 1} has {share:.0%} of its rows equal to {value:g}; "
                "a continuous flow cannot fit such an atom (its NLL is unbounded): drop the "
                "column, or dequantize it (add uniform noise of the value spacing)"
            )
        if share >= ATOM_WARN:
            warnings.warn(
                f"data: {path}: column {col + 1} has {share:.0%} of its rows equal to {value:g}; "
                "the fitted density has a spike there and its NLL is not meaningful "
                "(DegenerateColumnWarning)",
                DegenerateColumnWarning,
                stacklevel=2,
            )


def _is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def write_csv(path: str | Path, x: Tensor, header: list[str] | None = None) -> None:
    """Write ``(n, D)`` (or ``(n,)``) values atomically."""
    from papershelf.io import atomic_write_text

    arr = x.detach().cpu().double()
    if arr.ndim == 1:
        arr = arr[:, None]
    lines = [",".join(header)] if header else []
    lines += [",".join(f"{v:.8g}" for v in row) for row in arr.tolist()]
    atomic_write_text(Path(path), "\n".join(lines) + "\n")
