"""Running claims: seeds, threads, quiet third-party output, progress, and the results
folder.

Layout of ``--out``::

    results.json        every paper and claim run (schema ``papershelf.results/1``)
    results.md          the same as a Markdown table, with links to every figure
    index.html          one static page: table, rules, numbers, figures, machine
    <paper>/summary.png ours vs baseline for each claim of the paper
    <paper>/<claim>/    the claim's own plots and artefacts

Rendering lives in ``papershelf.report`` (text), ``papershelf.html_page`` and
``papershelf.figures``.
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
from papershelf.progress import RunProgress
from papershelf.quiet import quiet_third_party
from papershelf.registry import Paper, Result, RunContext
from papershelf.report import to_markdown, verdict
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
OPTIONAL_CLAIM_FIELDS = {"precondition": str, "reason": str}
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


def run_claim(
    paper: Paper, claim_id: str, ctx: RunContext, *, verbose: bool = False
) -> dict[str, Any]:
    """Run one claim and return its record; an exception becomes ``status: "error"``.

    Third-party chatter (load reports, download bars, deprecation advice) is silenced
    unless ``verbose``."""
    claim = paper.claim(claim_id)
    record: dict[str, Any] = {
        "id": claim.id,
        "statement": claim.statement,
        "precondition": claim.precondition,
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
        "reason": "",
        "error": None,
    }
    ctx.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        experiment = claim.resolve()
        with torch_threads(claim.threads) as threads, quiet_third_party(verbose):
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
        atomic_write_text(ctx.out / "error.txt", traceback.format_exc())
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
    progress: RunProgress | None = None,
    verbose: bool = False,
) -> dict[str, Any]:
    """Run the claims of ``papers`` and write the results into ``out``.

    A ``results.json`` already in ``out`` (same schema, quick/full mode and seed) is kept:
    the claims run now replace their earlier records and every other record stays.

    Args:
        claims: claim ids to run (each must belong to one of the papers); all if ``None``.
        progress: where to report each claim's start and end (``None``: silent).
        verbose: let third-party libraries print their load reports and warnings.

    Returns:
        The results document, as written to ``out/results.json``.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"out: {out} is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    if claims:
        for claim_id in claims:
            if not any(claim_id in {c.id for c in p.claims} for p in papers):
                known = ", ".join(c.id for p in papers for c in p.claims)
                raise UserError(
                    f"claim: {claim_id!r} is not a claim of these papers; choose from {known}"
                )
    todo = [(p, c) for p in papers for c in p.claims if not claims or c.id in claims]
    doc = _previous_results(out, quick=quick, seed=seed) or {"papers": [], "wall_time_s": 0.0}
    doc.update(
        schema=SCHEMA,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        quick=quick,
        seed=seed,
        device=device,
        command=" ".join(sys.argv),
        environment=environment(papers),
    )
    if progress is not None:
        progress.total = len(todo)
        progress.budget_s = sum(c.quick_budget_s for _, c in todo)
    start, previous_wall = time.perf_counter(), doc["wall_time_s"]
    for paper in papers:
        entry = _paper_entry(doc, paper)
        ran = False
        for p, claim in todo:
            if p is not paper:
                continue
            if progress is not None:
                progress.claim_started(paper.id, claim.id, claim.quick_budget_s)
            ctx = RunContext(quick=quick, seed=seed, out=out / paper.id / claim.id, device=device)
            record = run_claim(paper, claim.id, ctx, verbose=verbose)
            entry["claims"] = [c for c in entry["claims"] if c["id"] != claim.id] + [record]
            order = [c.id for c in paper.claims]
            entry["claims"].sort(key=lambda c: order.index(c["id"]) if c["id"] in order else 0)
            if progress is not None:
                progress.claim_finished(paper.id, record, claim.quick_budget_s)
            doc["wall_time_s"] = round(previous_wall + time.perf_counter() - start, 3)
            _write(doc, out)  # after every claim, so an interruption keeps what finished
            ran = True
        if ran:
            from papershelf.figures import summary_plot

            with quiet_third_party(verbose):
                summary_plot(entry, out / paper.id / "summary.png")
    _write(doc, out)
    if progress is not None:
        progress.finished()
    return doc


def _previous_results(out: Path, *, quick: bool, seed: int) -> dict[str, Any] | None:
    """The results document already in ``out``, if any, when this run may add to it."""
    import json

    path = out / "results.json"
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        validate_results(doc)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(
            f"out: {path} is not a papershelf results file ({exc}); give another --out"
        ) from None
    if doc["quick"] != quick or doc["seed"] != seed:
        mode = "quick" if doc["quick"] else "full"
        raise UserError(
            f"out: {path} holds a {mode} run with seed {doc['seed']}; this run would mix "
            "modes or seeds there: give another --out"
        )
    return doc


def _paper_entry(doc: dict[str, Any], paper: Paper) -> dict[str, Any]:
    """The paper's entry of ``doc`` (made if missing), with its metadata refreshed."""
    entry = next((e for e in doc["papers"] if e["id"] == paper.id), None)
    if entry is None:
        entry = {"id": paper.id, "claims": []}
        doc["papers"].append(entry)
    entry.update(title=paper.title, arxiv=paper.arxiv, version=package_version(paper.distribution))
    return entry


def _write(doc: dict[str, Any], out: Path) -> None:
    from papershelf.html_page import write_index

    atomic_write_json(out / "results.json", doc)
    atomic_write_text(out / "results.md", to_markdown(doc))
    write_index(doc, out)


holds_text = verdict  # the earlier name


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
            for key, kind in OPTIONAL_CLAIM_FIELDS.items():
                if key in c and not isinstance(c[key], kind):
                    raise ValueError(f"{paper['id']}.{c['id']}.{key}: expected {kind.__name__}")
            if c["status"] not in ("ok", "error"):
                raise ValueError(f"{paper['id']}.{c['id']}.status: must be 'ok' or 'error'")
