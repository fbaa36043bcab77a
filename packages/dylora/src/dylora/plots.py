"""Metric-vs-rank plots (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path


def plot_rank_curves(
    path: Path, curves: dict[str, dict[int, float]], ylabel: str, title: str, logy: bool = False
) -> str:
    """One line per method, rank on x; returns the file name written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, curve in curves.items():
        ranks = sorted(curve)
        ax.plot(ranks, [curve[b] for b in ranks], marker="o", label=name)
    ax.set_xlabel("rank b")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name
