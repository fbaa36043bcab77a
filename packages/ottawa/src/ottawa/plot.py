"""Heat map of an alignment plan (matplotlib, imported only here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from papershelf.io import atomic_write_bytes

__all__ = ["plot_alignment"]


def plot_alignment(result: Any, path: Path) -> Path:
    """Write a PNG of ``result.plan_rev`` (MT words × source words + null), links boxed."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if result.plan_rev is None:
        raise ValueError("plot: this result has no transport plan (baseline without OT)")
    P = result.plan_rev * len(result.mt_words)  # each row sums to 1
    fig, ax = plt.subplots(figsize=(0.45 * P.shape[1] + 2.5, 0.4 * P.shape[0] + 2))
    im = ax.imshow(P, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(
        range(P.shape[1]), [*result.src_words, "NULL"], rotation=60, ha="right", fontsize=8
    )
    ax.set_yticks(range(P.shape[0]), result.mt_words, fontsize=8)
    for i, j in result.pairs:
        ax.add_patch(plt.Rectangle((i - 0.5, j - 0.5), 1, 1, fill=False, edgecolor="red", lw=1.5))
    ax.set_xlabel("source words (+ null)")
    ax.set_ylabel("MT words")
    ax.set_title(f"hall={result.hall:.3f}  omi={result.omi:.3f}")
    fig.colorbar(im, ax=ax, fraction=0.04, label="row-normalised mass")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path
