"""``index.html`` of a results folder: one static page (no script, no network) with the
results table, every claim's rule and numbers, its figures inline, the run's machine and
versions, and the benchmark tables when ``<paper>/bench.json`` files are present.

Figures are linked by their path relative to the page, so the folder is the unit to copy.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from papershelf.io import atomic_write_text
from papershelf.report import fmt, verdict

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.yes { background: #d8f3d8; } .no { background: #fde7c8; }
.inconclusive { background: #d6eef7; } .error { background: #f8d0d0; }
section.claim { border-top: 1px solid #ddd; margin-top: 1.5em; }
img { max-width: 100%; border: 1px solid #eee; }
dt { font-weight: bold; } dd { margin: 0 0 0.5em 1em; }
"""


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes else ""
        cells = "".join(f"<td>{escape(c)}</td>" for c in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def figure_paths(doc: dict[str, Any]) -> list[str]:
    """Every figure of the run, relative to the results folder: the claims' plots and the
    papers' summaries."""
    paths = []
    for paper in doc["papers"]:
        for c in paper["claims"]:
            paths += [f"{paper['id']}/{c['id']}/{name}" for name in c["plots"]]
    return paths


def _claim_section(paper: dict[str, Any], c: dict[str, Any]) -> str:
    held = verdict(c)
    items = [
        ("statement (the rule)", c["statement"]),
        ("precondition", c.get("precondition", "")),
        ("paper's number", c["paper_value"]),
        ("metric", c["metric"]),
        ("ours", fmt(c["ours"])),
        (
            "baseline",
            fmt(c["baseline"]) + (f" ({c['baseline_name']})" if c["baseline_name"] else ""),
        ),
        ("verdict", held + (f": {c['reason']}" if c.get("reason") else "")),
        ("note", c["note"]),
        ("error", c["error"] or ""),
        ("wall time", f"{c['wall_time_s']:.1f} s"),
    ]
    details = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items if v)
    figures = "".join(
        f'<figure><img src="{escape(paper["id"])}/{escape(c["id"])}/{escape(name)}" '
        f'alt="{escape(name)}"><figcaption>{escape(name)}</figcaption></figure>'
        for name in c["plots"]
    )
    return (
        f'<section class="claim" id="{escape(paper["id"])}-{escape(c["id"])}">'
        f'<h3 class="{held}">{escape(paper["id"])} / {escape(c["id"])}: {held}</h3>'
        f"<dl>{details}</dl>{figures}</section>"
    )


def _bench_section(folder: Path, doc: dict[str, Any]) -> str:
    parts = []
    for paper in doc["papers"]:
        path = folder / paper["id"] / "bench.json"
        if not path.is_file():
            continue
        bench = json.loads(path.read_text(encoding="utf-8"))
        keys = list(dict.fromkeys(k for r in bench["rows"] for k in r["params"]))
        rows = [
            [
                r["name"],
                *(str(r["params"].get(k, "")) for k in keys),
                f"{r['median_s'] * 1e3:.3g}",
                f"{r['ratio']:.3g}",
            ]
            for r in bench["rows"]
        ]
        parts.append(
            f"<h3>{escape(paper['id'])}: {escape(bench['title'])}</h3>"
            f"<p>baseline: {escape(bench['baseline'])}; {escape(bench['machine'])}</p>"
            + _table(["case", *keys, "median ms", "time ratio"], rows)
            + "".join(f"<p>{escape(n)}</p>" for n in bench.get("notes", []))
        )
    return "<h2>Benchmarks</h2>" + "".join(parts) if parts else ""


def render_index(doc: dict[str, Any], folder: Path) -> str:
    """The page's HTML for the results document ``doc`` written in ``folder``."""
    rows, classes = [], []
    for paper in doc["papers"]:
        for c in paper["claims"]:
            held = verdict(c)
            base = fmt(c["baseline"]) + (f" ({c['baseline_name']})" if c["baseline_name"] else "")
            rows.append(
                [
                    paper["id"],
                    c["id"],
                    c["metric"] or "-",
                    fmt(c["ours"]),
                    base,
                    c["paper_value"],
                    held,
                ]
            )
            classes.append(held)
    summaries = "".join(
        f'<figure><img src="{escape(p["id"])}/summary.png" alt="{escape(p["id"])} summary">'
        f"<figcaption>{escape(p['id'])}: every claim</figcaption></figure>"
        for p in doc["papers"]
        if (folder / p["id"] / "summary.png").is_file()
    )
    env = doc["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    run = "quick" if doc["quick"] else "full"
    sections = "".join(_claim_section(p, c) for p in doc["papers"] for c in p["claims"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>papershelf results</title>
<style>{STYLE}</style></head><body>
<h1>papershelf results</h1>
<p>{run} run, seed {doc["seed"]}, device {escape(doc["device"])}, created {escape(doc["created"])},
wall time {doc["wall_time_s"] / 60:.1f} min.<br>
Machine: {escape(env["platform"])} ({escape(env["machine"])}), Python {escape(env["python"])}.<br>
Versions: {escape(versions)}.<br>Command: <code>{escape(doc.get("command", ""))}</code></p>
{_table(["paper", "claim", "metric", "ours", "baseline", "paper's number", "holds"], rows, classes)}
<h2>Summaries</h2>{summaries}
<h2>Claims</h2>{sections}
{_bench_section(folder, doc)}
</body></html>
"""


def write_index(doc: dict[str, Any], folder: Path) -> Path:
    """Write ``folder/index.html`` for ``doc`` (atomically) and return its path."""
    path = Path(folder) / "index.html"
    atomic_write_text(path, render_index(doc, Path(folder)))
    return path
