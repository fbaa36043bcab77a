"""Density plots of 2-D flows: heat maps of a log-density on a grid, scatter plots of samples.

Used by the claims (``flows.claims.*``) and by ``flows fit`` on 2-D data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["density_grid", "plot_densities"]


@torch.no_grad()
def density_grid(log_prob: Callable[[Tensor], Tensor], box: float, n: int = 200) -> Tensor:
    """``exp(log_prob)`` on an ``n x n`` grid over ``[-box, box]^2``, rows along y."""
    xs = torch.linspace(-box, box, n)
    xx, yy = torch.meshgrid(xs, xs, indexing="xy")
    pts = torch.stack([xx.flatten(), yy.flatten()], -1)
    return log_prob(pts).exp().reshape(n, n)


def plot_densities(
    path: Path, panels: dict[str, Callable[[Tensor], Tensor] | Tensor], box: float, title: str = ""
) -> str:
    """One image per panel: a log-density callable (heat map) or an ``(n, 2)`` sample (scatter)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.2), squeeze=False)
    for ax, (name, item) in zip(axes[0], panels.items(), strict=True):
        if callable(item):
            ax.imshow(
                density_grid(item, box).numpy(),
                extent=(-box, box, -box, box),
                origin="lower",
                cmap="viridis",
            )
        else:
            pts = item[:5000].numpy()
            ax.scatter(pts[:, 0], pts[:, 1], s=1, alpha=0.4)
            ax.set_xlim(-box, box)
            ax.set_ylim(-box, box)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path.name
