"""Rendering a results document (``results.json``) as text: the Markdown page, the
terminal table, and the claims tables that READMEs carry between markers.

A README holds a generated table between ``<!-- papershelf:results -->`` and
``<!-- /papershelf:results -->``; ``papershelf report RESULTS --readme README.md`` rewrites
it (``--paper ID`` for a package README) and ``--check`` fails when it differs, which is
what the test of the committed READMEs runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from papershelf.errors import UserError
from papershelf.io import atomic_write_text

START = "<!-- papershelf:results -->"
END = "<!-- /papershelf:results -->"
COLUMNS = ("paper", "claim", "metric", "ours", "baseline", "paper's number", "holds")
WIDE_TABLE_COLUMNS = 120


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def verdict(record: dict[str, Any]) -> str:
    """``yes``, ``no``, ``inconclusive`` (a declared precondition failed) or ``error``."""
    if record["status"] != "ok":
        return "error"
    if record["holds"] is None:
        return "inconclusive"
    return "yes" if record["holds"] else "no"


def _baseline(c: dict[str, Any]) -> str:
    return fmt(c["baseline"]) + (f" ({c['baseline_name']})" if c["baseline_name"] else "")


def table_rows(doc: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row of ``COLUMNS`` per claim, as text."""
    return [
        (
            paper["id"],
            c["id"],
            c["metric"] or "-",
            fmt(c["ours"]),
            _baseline(c),
            c["paper_value"],
            verdict(c),
        )
        for paper in doc["papers"]
        for c in paper["claims"]
    ]


def _markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def _notes(doc: dict[str, Any]) -> list[str]:
    lines = []
    for paper in doc["papers"]:
        for c in paper["claims"]:
            text = c.get("error") or c.get("reason") or c["note"]
            if text:
                lines.append(f"- **{paper['id']} / {c['id']}** ({verdict(c)}): {text}")
    return lines


def to_markdown(doc: dict[str, Any]) -> str:
    """The results page: one table row per claim, the notes, and links to every figure."""
    lines = [
        f"# papershelf results ({'quick' if doc['quick'] else 'full'} run, seed {doc['seed']})",
        "",
        *_markdown_table(COLUMNS, table_rows(doc)),
        "",
        f"Wall time {doc['wall_time_s']:.1f} s. Versions: {doc['environment']['packages']}.",
        "",
        *_notes(doc),
    ]
    figures = [
        f"- [{paper['id']} / {c['id']}: {name}]({paper['id']}/{c['id']}/{name})"
        for paper in doc["papers"]
        for c in paper["claims"]
        for name in c["plots"]
    ]
    if figures:
        lines += ["", "## Figures", "", *figures]
    return "\n".join(lines) + "\n"


def print_table(doc: dict[str, Any], console: Any) -> None:
    """The rich table on a wide terminal; Markdown rows anywhere else (a log, a file, a
    narrow window), where a boxed table would wrap every cell."""
    if not console.is_terminal or console.width < WIDE_TABLE_COLUMNS:
        text = "\n".join(_markdown_table(COLUMNS, table_rows(doc)))
        console.print(text, highlight=False, markup=False, soft_wrap=True)
        return
    from rich.table import Table

    table = Table(title="papershelf reproduce", show_lines=False)
    for col in COLUMNS:
        table.add_column(col, overflow="fold")
    colours = {"yes": "green", "no": "yellow", "inconclusive": "cyan", "error": "red"}
    for *cells, held in table_rows(doc):
        table.add_row(*cells, f"[{colours[held]}]{held}[/]")
    console.print(table)


def readme_table(doc: dict[str, Any], paper_id: str | None = None) -> str:
    """The generated block of a README: every paper's claims (``paper_id=None``, the root
    README) or one paper's claims beside the paper's numbers."""
    if paper_id is None:
        header: tuple[str, ...] = ("paper", "claim", "metric", "ours", "baseline", "holds")
        rows = [(r[0], r[1], r[2], r[3], r[4], r[6]) for r in table_rows(doc)]
    else:
        if paper_id not in {p["id"] for p in doc["papers"]}:
            known = ", ".join(p["id"] for p in doc["papers"])
            raise UserError(f"paper: {paper_id!r} is not in the results; choose from {known}")
        header = ("claim", "metric", "ours", "baseline", "paper's number", "holds")
        rows = [r[1:] for r in table_rows(doc) if r[0] == paper_id]
    run = "quick" if doc["quick"] else "full"
    wall = doc["wall_time_s"]
    if paper_id is not None:
        paper = next(p for p in doc["papers"] if p["id"] == paper_id)
        wall = sum(c["wall_time_s"] for c in paper["claims"])
    return "\n".join(
        [
            START,
            *_markdown_table(header, rows),
            "",
            f"_Generated by `papershelf report` from a {run} run (seed {doc['seed']}, "
            f"{doc['created'][:10]}); wall time {wall / 60:.1f} min._",
            END,
        ]
    )


def replace_readme_block(text: str, block: str, where: str = "README") -> str:
    """``text`` with its marked results block replaced by ``block``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise UserError(f"{where}: no results block; add the lines {START} and {END}")
    return text[:start] + block + text[end + len(END) :]


def update_readme(
    readme: Path, doc: dict[str, Any], paper_id: str | None = None, *, check: bool = False
) -> bool:
    """Rewrite (or with ``check`` only compare) the README's results block; return whether
    it was already up to date."""
    readme = Path(readme)
    if not readme.is_file():
        raise UserError(f"readme: {readme} does not exist")
    text = readme.read_text(encoding="utf-8")
    new = replace_readme_block(text, readme_table(doc, paper_id), str(readme))
    if new != text and not check:
        atomic_write_text(readme, new)
    return new == text


def load_results(path: Path) -> dict[str, Any]:
    """A results document read from ``path`` and checked against the schema."""
    import json

    from papershelf.repro import validate_results

    path = Path(path)
    if not path.is_file():
        raise UserError(f"results: {path} does not exist")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        validate_results(doc)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"results: {path} is not a papershelf results file ({exc})") from None
    return doc
