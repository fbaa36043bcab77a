"""The umbrella CLI (``papershelf list | reproduce | bench``) and the helpers every
package CLI is built from.

A package CLI is three lines plus its own commands::

    from papershelf.cli import make_app, run_app
    app = make_app("dylora", help="DyLoRA: one training run for every LoRA rank.")
    @app.command()
    def train(...): ...              # import torch inside the command
    def main() -> None:
        run_app(app)

``make_app`` adds ``reproduce`` and ``bench`` (the same code path as ``papershelf
reproduce <paper>``); ``run_app`` turns user errors into one line on stderr.
Nothing heavy is imported at module level, so ``--help`` answers at once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from papershelf.errors import UserError

QuickOpt = Annotated[
    bool,
    typer.Option("--quick/--full", help="Laptop-sized runs (~2 min per claim on 2 CPU cores)."),
]
OutOpt = Annotated[
    Path, typer.Option("--out", help="Folder for results.json, results.md and plots.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed for every random choice.")]
DeviceOpt = Annotated[str, typer.Option("--device", help="torch device, e.g. cpu or cuda.")]
ClaimOpt = Annotated[
    list[str] | None, typer.Option("--claim", help="Run only this claim (repeatable).")
]
BenchOutOpt = Annotated[
    Path | None, typer.Option("--out", help="Also write bench.json and bench.md here.")
]
PapersArg = Annotated[
    list[str] | None, typer.Argument(help="Paper ids (default: every installed paper).")
]

USER_ERRORS: tuple[type[BaseException], ...] = (
    UserError,
    ValueError,
    FileNotFoundError,
    NotADirectoryError,
    KeyError,
)


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr)


def _papers(paper_ids: list[str] | None) -> list:
    """The named papers, or every installed one; an error if there are none."""
    from papershelf.registry import discover, get_paper

    papers = [get_paper(p) for p in paper_ids] if paper_ids else list(discover().values())
    if not papers:
        raise UserError(
            "no paper package is installed; install one with `uv sync --package <name>`"
        )
    return papers


def run_reproduce(
    paper_ids: list[str] | None,
    *,
    quick: bool,
    out: Path,
    seed: int,
    claims: list[str] | None,
    device: str,
) -> None:
    """Reproduce the claims of the named (or all installed) papers and print the table."""
    from papershelf.repro import print_table, reproduce

    papers = _papers(paper_ids)
    con = console()
    doc = reproduce(
        papers, out=out, quick=quick, seed=seed, claims=claims, device=device, console=con
    )
    print_table(doc, con)
    con.print(f"results: {out / 'results.json'}, {out / 'results.md'}")
    errors = [c["id"] for p in doc["papers"] for c in p["claims"] if c["status"] == "error"]
    if errors:
        raise UserError(
            f"{len(errors)} claim(s) failed to run: {', '.join(errors)} (see error.txt in their folders)"
        )


def run_bench(paper_ids: list[str] | None, *, quick: bool, out: Path | None) -> None:
    """Run the performance comparison of the named (or all installed) papers."""
    from papershelf.bench import BenchReport
    from papershelf.registry import resolve_callable
    from papershelf.threads import torch_threads

    con = console()
    for paper in _papers(paper_ids):
        if paper.bench is None:
            con.print(f"{paper.id}: no benchmark")
            continue
        bench = resolve_callable(paper.bench, f"{paper.id} bench")
        with torch_threads(paper.bench_threads):
            report = bench(quick=quick)
        if not isinstance(report, BenchReport):
            raise TypeError(f"{paper.id} bench returned {type(report).__name__}, not BenchReport")
        report.print(con)
        if out is not None:
            report.save(Path(out) / paper.id)


def add_paper_commands(app: typer.Typer, paper_id: str) -> None:
    """Add ``reproduce`` and ``bench`` for one paper to a package's typer app."""

    @app.command("reproduce")
    def reproduce_cmd(
        quick: QuickOpt = True,
        out: OutOpt = Path(f"results/{paper_id}"),
        seed: SeedOpt = 0,
        claim: ClaimOpt = None,
        device: DeviceOpt = "cpu",
    ) -> None:
        """Run this paper's claims and compare them with the paper's numbers."""
        run_reproduce([paper_id], quick=quick, out=out, seed=seed, claims=claim, device=device)

    @app.command("bench")
    def bench_cmd(
        quick: QuickOpt = True,
        out: BenchOutOpt = None,
    ) -> None:
        """Time the method against its baseline in the same run and print the ratios."""
        run_bench([paper_id], quick=quick, out=out)


def _typer(help: str) -> typer.Typer:
    # Plain help text: rich markup makes `--help` import rich and costs ~0.2 s.
    return typer.Typer(
        help=help,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )


def make_app(paper_id: str, help: str) -> typer.Typer:
    """A typer app for a paper package, with ``reproduce`` and ``bench`` already added."""
    app = _typer(help)
    add_paper_commands(app, paper_id)
    return app


def _click_exceptions() -> tuple[type, ...]:
    """Click's usage-error base class; typer >= 0.20 vendors its own copy as ``typer._click``."""
    import click

    classes: list[type] = [click.exceptions.ClickException]
    try:
        from typer._click.exceptions import ClickException
    except ImportError:
        pass
    else:
        classes.append(ClickException)
    return tuple(classes)


def run_app(app: typer.Typer) -> None:
    """Run a typer app; user errors print one ``error: ...`` line and exit with status 2.

    Set ``PAPERSHELF_TRACEBACK=1`` to see the full traceback instead. torch, once a command
    imports it, uses the thread policy of ``papershelf.threads`` (the cores this process may
    run on, or ``PAPERSHELF_THREADS``) unless ``OMP_NUM_THREADS`` is already set.
    """
    try:
        from papershelf.threads import thread_count

        os.environ.setdefault("OMP_NUM_THREADS", str(thread_count()))
        app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print(
            "error: interrupted; rerun the same command to resume from the last checkpoint",
            file=sys.stderr,
        )
        sys.exit(130)
    except Exception as exc:
        if isinstance(exc, _click_exceptions()):
            ctx = getattr(exc, "ctx", None)
            hint = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
            print(f"error: {exc.format_message().rstrip('.')}{hint}", file=sys.stderr)
            sys.exit(exc.exit_code)
        if os.environ.get("PAPERSHELF_TRACEBACK") or not isinstance(exc, USER_ERRORS):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


app = _typer(
    "papershelf: the group's papers as libraries. List them, reproduce their claims, benchmark them."
)


@app.command("list")
def list_cmd() -> None:
    """List the installed papers and their claims."""
    from papershelf.registry import discover

    papers = discover()
    if not papers:
        print("no paper package is installed; install one with `uv sync --package <name>`")
    for paper in papers.values():
        print(f"{paper.id}  arXiv:{paper.arxiv}  {paper.title}")
        for claim in paper.claims:
            print(f"    {claim.id}: {claim.statement}")


@app.command("reproduce")
def reproduce_cmd(
    papers: PapersArg = None,
    quick: QuickOpt = True,
    out: OutOpt = Path("results"),
    seed: SeedOpt = 0,
    claim: ClaimOpt = None,
    device: DeviceOpt = "cpu",
) -> None:
    """Reproduce the claims of the installed papers (all, or those named)."""
    run_reproduce(papers, quick=quick, out=out, seed=seed, claims=claim, device=device)


@app.command("bench")
def bench_cmd(
    papers: PapersArg = None,
    quick: QuickOpt = True,
    out: BenchOutOpt = None,
) -> None:
    """Benchmark the installed papers' methods against their baselines."""
    run_bench(papers, quick=quick, out=out)


def main() -> None:
    run_app(app)
