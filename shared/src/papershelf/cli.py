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
import time
from pathlib import Path
from typing import Annotated

import typer

from papershelf.errors import RunFailed, UserError

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
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only the final table (no progress lines).")
]
VerboseOpt = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Show third-party load reports, bars and warnings."),
]
OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="Delete the run already in --out and start over.")
]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue the run in --out even if its arguments differ.")
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


def check_device(device: str) -> str:
    """``device`` if torch can run on it here; otherwise a one-line ``UserError``."""
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise UserError(
            f"device: must be a torch device such as cpu or cuda:0, got {device!r}"
        ) from None
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }
    if not available.get(parsed.type, False):
        raise UserError(f"device: {device!r} is not available on this machine; use cpu")
    if parsed.type == "cuda" and (parsed.index or 0) >= torch.cuda.device_count():
        raise UserError(f"device: {device!r}: this machine has {torch.cuda.device_count()} GPU(s)")
    return device


def run_reproduce(
    paper_ids: list[str] | None,
    *,
    quick: bool,
    out: Path,
    seed: int,
    claims: list[str] | None,
    device: str,
    quiet: bool = False,
    verbose: bool = False,
) -> None:
    """Reproduce the claims of the named (or all installed) papers and print the table.

    Progress lines go to stderr, the final table to stdout; ``out`` gets ``results.json``,
    ``results.md`` and ``index.html``."""
    from papershelf.progress import RunProgress
    from papershelf.report import print_table
    from papershelf.repro import reproduce

    papers = _papers(paper_ids)
    check_device(device)
    doc = reproduce(
        papers,
        out=out,
        quick=quick,
        seed=seed,
        claims=claims,
        device=device,
        progress=RunProgress(total=0, budget_s=0.0, quiet=quiet),
        verbose=verbose,
    )
    con = console()
    print_table(doc, con)
    con.print(
        f"results: {out / 'index.html'}, {out / 'results.json'}", highlight=False, soft_wrap=True
    )
    errors = [c["id"] for p in doc["papers"] for c in p["claims"] if c["status"] == "error"]
    if errors:
        raise RunFailed(
            f"{len(errors)} claim(s) failed to run: {', '.join(errors)} (see error.txt in their folders)"
        )


def run_bench(
    paper_ids: list[str] | None, *, quick: bool, out: Path | None, quiet: bool = False
) -> None:
    """Run the performance comparison of the named (or all installed) papers; with ``out``,
    write ``<out>/<paper>/bench.json`` and ``bench.md``."""
    from papershelf.bench import BenchReport
    from papershelf.progress import format_seconds
    from papershelf.quiet import quiet_third_party
    from papershelf.registry import resolve_callable
    from papershelf.threads import torch_threads

    con = console()
    papers = _papers(paper_ids)
    for k, paper in enumerate(papers, 1):
        if paper.bench is None:
            con.print(f"{paper.id}: no benchmark")
            continue
        if not quiet:
            print(f"[{k}/{len(papers)}] {paper.id} bench: running", file=sys.stderr, flush=True)
        start = time.perf_counter()
        bench = resolve_callable(paper.bench, f"{paper.id} bench")
        with torch_threads(paper.bench_threads), quiet_third_party():
            report = bench(quick=quick)
        if not isinstance(report, BenchReport):
            raise TypeError(f"{paper.id} bench returned {type(report).__name__}, not BenchReport")
        if not quiet:
            elapsed = format_seconds(time.perf_counter() - start)
            print(f"[{k}/{len(papers)}] {paper.id} bench: done in {elapsed}", file=sys.stderr)
        if con.is_terminal:
            report.print(con)
        else:
            print(report.to_markdown())
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
        quiet: QuietOpt = False,
        verbose: VerboseOpt = False,
    ) -> None:
        """Run this paper's claims and compare them with the paper's numbers."""
        run_reproduce(
            [paper_id],
            quick=quick,
            out=out,
            seed=seed,
            claims=claim,
            device=device,
            quiet=quiet,
            verbose=verbose,
        )

    @app.command("bench")
    def bench_cmd(quick: QuickOpt = True, out: BenchOutOpt = None, quiet: QuietOpt = False) -> None:
        """Time the method against its baseline in the same run and print the ratios."""
        run_bench([paper_id], quick=quick, out=out, quiet=quiet)


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


DEBUG_FLAG = "--debug"


def run_app(app: typer.Typer) -> None:
    """Run a typer app so that no mistake ends in a traceback.

    Usage errors (click's or typer's copy of them) and ``UserError`` / ``ValueError`` /
    missing files print one ``error: ...`` line and exit with status 2; ``RunFailed``, OS
    errors (a read-only folder, a full disk) and out-of-memory exit with status 1; anything
    else is a bug: one line that says so, status 1. ``--debug`` anywhere on the command line
    (or ``PAPERSHELF_TRACEBACK=1``) shows the traceback instead. torch, once a command
    imports it, uses the thread policy of ``papershelf.threads`` unless ``OMP_NUM_THREADS``
    is already set.
    """
    debug = DEBUG_FLAG in sys.argv[1:] or bool(os.environ.get("PAPERSHELF_TRACEBACK"))
    sys.argv = [sys.argv[0], *(a for a in sys.argv[1:] if a != DEBUG_FLAG)]
    try:
        from papershelf.threads import thread_count

        os.environ.setdefault("OMP_NUM_THREADS", str(thread_count()))
        status = app(standalone_mode=False)
        if isinstance(status, int) and status:  # click returns 130 on Ctrl-C here
            raise KeyboardInterrupt if status == 130 else SystemExit(status)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail("aborted", 130)
    except KeyboardInterrupt:
        _fail("interrupted; rerun the same command to resume from the last checkpoint", 130)
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare command: its help, status 0
            print(exc.format_message())
            sys.exit(0)
        if isinstance(exc, _click_exceptions()):
            ctx = getattr(exc, "ctx", None)
            hint = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
            _fail(f"{exc.format_message().rstrip('.')}{hint}", exc.exit_code)
        if debug:
            raise
        _fail(*_one_line(exc))


def _one_line(exc: BaseException) -> tuple[str, int]:
    """The message and exit status for an exception that reached the CLI."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, USER_ERRORS):
        return first, getattr(exc, "exit_code", 2)
    if isinstance(exc, MemoryError):
        return "out of memory: reduce the sizes asked for (--debug shows where)", 1
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"{where}{exc.strerror or first}", 1
    return (
        f"unexpected {type(exc).__name__}: {first} (a bug: rerun with --debug and report "
        "the traceback)",
        1,
    )


def _fail(message: str, status: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


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
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Reproduce the claims of the installed papers (all, or those named)."""
    run_reproduce(
        papers,
        quick=quick,
        out=out,
        seed=seed,
        claims=claim,
        device=device,
        quiet=quiet,
        verbose=verbose,
    )


@app.command("bench")
def bench_cmd(
    papers: PapersArg = None,
    quick: QuickOpt = True,
    out: BenchOutOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Benchmark the installed papers' methods against their baselines."""
    run_bench(papers, quick=quick, out=out, quiet=quiet)


@app.command("report")
def report_cmd(
    results: Annotated[Path, typer.Argument(help="A results.json written by reproduce.")],
    readme: Annotated[
        list[Path] | None,
        typer.Option("--readme", help="README whose results block to rewrite (repeatable)."),
    ] = None,
    paper: Annotated[
        str | None, typer.Option("--paper", help="Only this paper's claims (a package README).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a block is out of date.")
    ] = False,
    html: Annotated[
        bool, typer.Option("--html", help="Rewrite index.html beside the results file.")
    ] = False,
) -> None:
    """Regenerate README results tables (and index.html) from a results.json."""
    from papershelf.report import load_results, update_readme

    doc = load_results(results)
    stale = [str(r) for r in readme or [] if not update_readme(r, doc, paper, check=check)]
    if html:
        from papershelf.html_page import write_index

        print(f"wrote {write_index(doc, results.parent)}")
    if check and stale:
        raise RunFailed(f"readme: out of date with {results}: {', '.join(stale)}")
    for r in readme or []:
        print(
            f"{r}: {'out of date' if str(r) in stale else 'up to date'}"
            if check
            else f"{r}: written"
        )


def main() -> None:
    run_app(app)
