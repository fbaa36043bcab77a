"""Running claims: the result table, ``results.json``, ``results.md`` and a summary plot.

Layout of ``--out``::

    results.json        every paper and claim run (schema ``papershelf.results/1``)
    results.md          the same as a Markdown table
    <paper>/summary.png ours vs baseline for each claim of the paper
    <paper>/<claim>/    the claim's own plots and artefacts
"""

from __future__ import annotations

import math
import platform
import sys
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from papershelf.errors import UserError
from papershelf.io import atomic_write_json, atomic_write_text
from papershelf.registry import Paper, Result, RunContext
from papershelf.seeding import seed_everything
from papershelf.threads import torch_threads

SCHEMA = "papershelf.results/1"
CLAIM_FIELDS = {
    "id": str,
    "statement": str,
    "paper_value": str,
    "status": str,
    "metric": str,
    "ours": (float, int, type(None)),
    "baseline": (float, int, type(None)),
    "baseline_name": str,
    "holds": (bool, type(None)),
    "details": dict,
    "plots": list,
    "config": dict,
    "note": str,
    "wall_time_s": (float, int),
    "error": (str, type(None)),
}
TRACKED_PACKAGES = (
    "papershelf",
    "torch",
    "transformers",
    "peft",
    "numpy",
    "pot",
    "torch-geometric",
)


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def environment(papers: list[Paper]) -> dict[str, Any]:
    """Python, platform and the versions of the packages that shape the numbers."""
    names = dict.fromkeys([*TRACKED_PACKAGES, *(p.distribution for p in papers)])
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": {n: v for n in names if (v := package_version(n)) is not None},
    }


def run_claim(paper: Paper, claim_id: str, ctx: RunContext) -> dict[str, Any]:
    """Run one claim and return its record; an exception becomes ``status: "error"``."""
    claim = paper.claim(claim_id)
    record: dict[str, Any] = {
        "id": claim.id,
        "statement": claim.statement,
        "paper_value": claim.paper_value,
        "status": "ok",
        "metric": "",
        "ours": None,
        "baseline": None,
        "baseline_name": "",
        "holds": None,
        "details": {},
        "plots": [],
        "config": {},
        "note": "",
        "error": None,
    }
    ctx.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        experiment = claim.resolve()
        with torch_threads(claim.threads) as threads:
            seed_everything(ctx.seed)
            result = experiment(ctx)
        if not isinstance(result, Result):
            raise TypeError(f"claim {claim.id!r} returned {type(result).__name__}, not Result")
        record.update(asdict(result))
        record["ours"] = _finite_or_none(result.ours)
        record["baseline"] = _finite_or_none(result.baseline)
        record["holds"] = None if result.holds is None else bool(result.holds)
        record["config"] = {**record["config"], "torch_threads": threads}
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        record["status"] = "error"
        record["error"] = f"{type(exc).__name__}: {exc}"
        (ctx.out / "error.txt").write_text(traceback.format_exc())
    record["wall_time_s"] = round(time.perf_counter() - start, 3)
    return record


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def reproduce(
    papers: list[Paper],
    *,
    out: Path,
    quick: bool = True,
    seed: int = 0,
    claims: list[str] | None = None,
    device: str = "cpu",
    console: Any = None,
) -> dict[str, Any]:
    """Run the claims of ``papers`` and write the results into ``out``.

    Args:
        claims: claim ids to run (each must belong to one of the papers); all if ``None``.

    Returns:
        The results document, as written to ``out/results.json``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if claims:
        for claim_id in claims:
            if not any(claim_id in {c.id for c in p.claims} for p in papers):
                known = ", ".join(c.id for p in papers for c in p.claims)
                raise UserError(
                    f"claim: {claim_id!r} is not a claim of these papers; choose from {known}"
                )
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "seed": seed,
        "device": device,
        "command": " ".join(sys.argv),
        "environment": environment(papers),
        "papers": [],
        "wall_time_s": 0.0,
    }
    start = time.perf_counter()
    for paper in papers:
        entry = {
            "id": paper.id,
            "title": paper.title,
            "arxiv": paper.arxiv,
            "version": package_version(paper.distribution),
            "claims": [],
        }
        doc["papers"].append(entry)
        for claim in paper.claims:
            if claims and claim.id not in claims:
                continue
            if console is not None:
                console.print(f"[bold]{paper.id}[/] {claim.id} ...", highlight=False)
            ctx = RunContext(quick=quick, seed=seed, out=out / paper.id / claim.id, device=device)
            entry["claims"].append(run_claim(paper, claim.id, ctx))
            doc["wall_time_s"] = round(time.perf_counter() - start, 3)
            _write(doc, out)  # after every claim, so an interruption keeps what finished
        if entry["claims"]:
            _summary_plot(entry, out / paper.id / "summary.png")
    doc["wall_time_s"] = round(time.perf_counter() - start, 3)
    _write(doc, out)
    return doc


def _write(doc: dict[str, Any], out: Path) -> None:
    atomic_write_json(out / "results.json", doc)
    atomic_write_text(out / "results.md", to_markdown(doc))


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def holds_text(record: dict[str, Any]) -> str:
    if record["status"] != "ok":
        return "error"
    if record["holds"] is None:
        return "inconclusive"
    return "yes" if record["holds"] else "no"


COLUMNS = ("paper", "claim", "metric", "ours", "baseline", "paper's number", "holds")


def table_rows(doc: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row of ``COLUMNS`` per claim, as text."""
    rows = []
    for paper in doc["papers"]:
        for c in paper["claims"]:
            base = fmt(c["baseline"]) + (f" ({c['baseline_name']})" if c["baseline_name"] else "")
            rows.append(
                (
                    paper["id"],
                    c["id"],
                    c["metric"] or "-",
                    fmt(c["ours"]),
                    base,
                    c["paper_value"],
                    holds_text(c),
                )
            )
    return rows


def to_markdown(doc: dict[str, Any]) -> str:
    """The results as a Markdown table (one row per claim)."""
    lines = [
        f"# papershelf results ({'quick' if doc['quick'] else 'full'} run, seed {doc['seed']})",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(doc)]
    lines += [
        "",
        f"Wall time {doc['wall_time_s']:.1f} s. Versions: {doc['environment']['packages']}.",
        "",
    ]
    for paper in doc["papers"]:
        for c in paper["claims"]:
            if c["note"] or c["error"]:
                lines.append(f"- **{paper['id']} / {c['id']}**: {c['error'] or c['note']}")
    return "\n".join(lines) + "\n"


def print_table(doc: dict[str, Any], console: Any) -> None:
    """Print the results table with rich."""
    from rich.table import Table

    table = Table(title="papershelf reproduce", show_lines=False)
    for col in COLUMNS:
        table.add_column(col, overflow="fold")
    colours = {"yes": "green", "no": "yellow", "inconclusive": "cyan", "error": "red"}
    for *cells, held in table_rows(doc):
        table.add_row(*cells, f"[{colours[held]}]{held}[/]")
    console.print(table)


def _summary_plot(entry: dict[str, Any], path: Path) -> None:
    """One panel per claim: the method's value beside the baseline's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    claims = [c for c in entry["claims"] if c["status"] == "ok" and c["ours"] is not None]
    if not claims:
        return
    fig, axes = plt.subplots(1, len(claims), figsize=(3.2 * len(claims), 3), squeeze=False)
    for ax, c in zip(axes[0], claims, strict=True):
        names, values = ["ours"], [c["ours"]]
        if c["baseline"] is not None:
            names.append(c["baseline_name"] or "baseline")
            values.append(c["baseline"])
        ax.bar(names, values, color=["tab:blue", "tab:gray"][: len(values)])
        ax.set_title(f"{c['id']} ({holds_text(c)})", fontsize=9)
        ax.set_ylabel(c["metric"], fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(entry["id"])
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def validate_results(doc: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first field of ``doc`` that breaks the schema."""
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"schema: expected {SCHEMA!r}, got {doc.get('schema')!r}")
    for key, kind in {
        "quick": bool,
        "seed": int,
        "environment": dict,
        "papers": list,
        "wall_time_s": (int, float),
    }.items():
        if not isinstance(doc.get(key), kind):
            raise ValueError(f"{key}: expected {kind}, got {type(doc.get(key)).__name__}")
    if "packages" not in doc["environment"]:
        raise ValueError("environment.packages: missing")
    for paper in doc["papers"]:
        for key in ("id", "title", "arxiv", "claims"):
            if key not in paper:
                raise ValueError(f"papers[].{key}: missing")
        for c in paper["claims"]:
            for key, kind in CLAIM_FIELDS.items():
                if key not in c:
                    raise ValueError(f"{paper['id']}.{c.get('id')}.{key}: missing")
                if not isinstance(c[key], kind):
                    raise ValueError(
                        f"{paper['id']}.{c['id']}.{key}: expected {kind}, got {type(c[key]).__name__}"
                    )
            if c["status"] not in ("ok", "error"):
                raise ValueError(f"{paper['id']}.{c['id']}.status: must be 'ok' or 'error'")
