"""Density plots: the grid density of a normal integrates to ~1; a PNG is written."""

from __future__ import annotations

import math

import torch
from flows.plots import density_grid, plot_densities


def _std_normal(x: torch.Tensor) -> torch.Tensor:
    return -0.5 * (x**2).sum(-1) - math.log(2 * math.pi)


def test_density_grid_of_a_normal_integrates_to_one():
    n, box = 101, 6.0
    grid = density_grid(_std_normal, box, n)
    h = 2 * box / (n - 1)
    assert grid.shape == (n, n)
    assert abs(float(grid.sum()) * h * h - 1) < 1e-3
    assert grid[n // 2, n // 2] == grid.max()


def test_plot_densities_writes_one_png(tmp_path):
    pts = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    name = plot_densities(tmp_path / "sub" / "d.png", {"p": _std_normal, "x": pts}, 3.0, "t")
    assert name == "d.png" and (tmp_path / "sub" / "d.png").stat().st_size > 0
