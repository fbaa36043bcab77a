"""The summary figure of a paper's run: one panel per claim, ours beside the baseline."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

VERDICT_COLOURS = {"yes": "tab:green", "no": "tab:orange", "inconclusive": "tab:cyan"}


def summary_plot(entry: dict[str, Any], path: Path) -> bool:
    """Write ``path`` (PNG) for one paper's entry of a results document; return whether a
    figure was written (claims without a number have no panel).

    Bars are horizontal so that long baseline names stay readable; each panel's title
    carries the claim and its verdict, and the metric is the wrapped axis label.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from papershelf.report import verdict

    claims = [c for c in entry["claims"] if c["status"] == "ok" and c["ours"] is not None]
    if not claims:
        return False
    fig, axes = plt.subplots(
        len(claims), 1, figsize=(6.4, 1.9 * len(claims) + 0.4), squeeze=False, layout="constrained"
    )
    for ax, c in zip(axes[:, 0], claims, strict=True):
        names, values = ["ours"], [c["ours"]]
        if c["baseline"] is not None:
            names.append(c["baseline_name"] or "baseline")
            values.append(c["baseline"])
        labels = [textwrap.fill(n, 38) for n in names]
        ax.barh(labels, values, color=["tab:blue", "tab:gray"][: len(values)])
        ax.invert_yaxis()
        held = verdict(c)
        ax.set_title(
            f"{c['id']}: {held}", fontsize=9, loc="left", color=VERDICT_COLOURS.get(held, "black")
        )
        ax.set_xlabel(textwrap.fill(c["metric"], 70), fontsize=8)
        ax.tick_params(labelsize=7)
        for y, v in enumerate(values):
            ax.annotate(
                f"{v:.4g}",
                (v, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )
        ax.margins(x=0.15)
    fig.suptitle(entry["id"], fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
