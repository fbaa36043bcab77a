"""Paper and Claim records, and discovery of installed papers.

A paper package declares ``PAPER = Paper(...)`` in ``<pkg>/paper.py`` and registers it
under the entry-point group ``papershelf.papers``. ``paper.py`` must stay light: claims
point at their experiment by a ``"module:function"`` string that is imported only when
the claim runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from papershelf.errors import UserError

ENTRY_POINT_GROUP = "papershelf.papers"


@dataclass
class RunContext:
    """What a claim's experiment receives.

    Attributes:
        quick: run the laptop-sized version (about 2 minutes on 2 CPU cores).
        seed: the seed to use for every random choice.
        out: a folder for this claim's plots and artefacts (already created).
        device: torch device string, ``"cpu"`` unless the user asked otherwise.
    """

    quick: bool
    seed: int
    out: Path
    device: str = "cpu"

    def plot_path(self, name: str) -> Path:
        """Where to write a PNG plot called ``name`` (without suffix)."""
        return self.out / f"{name}.png"


@dataclass
class Result:
    """What a claim's experiment returns.

    Attributes:
        metric: the name of the headline metric, e.g. ``"accuracy at rank 1"``.
        ours: the method's value of that metric.
        baseline: the baseline's value, measured in the same run (``None`` if the claim
            has no baseline, e.g. an exactness check).
        holds: whether the claim's direction held in this run, computed from the numbers,
            never set by hand; ``None`` means inconclusive: a precondition the claim declares
            (e.g. the models learned the task in distribution) failed, so the comparison says
            nothing either way.
        baseline_name: what the baseline is, e.g. ``"LoRA r=8 truncated"``.
        details: further metrics (JSON-serialisable), e.g. per-rank tables.
        plots: file names (relative to the claim folder) of the plots written.
        config: the resolved configuration of the experiment.
        note: one sentence on how to read the result.
        reason: when ``holds`` is ``None``, why: the declared precondition that failed and the
            measured number, e.g. ``"RoPE reached 9 % in-distribution accuracy (< 90 %)"``.
    """

    metric: str
    ours: float
    holds: bool | None
    baseline: float | None = None
    baseline_name: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    plots: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Claim:
    """One claim of a paper and the experiment that tests it.

    Attributes:
        id: short slug, unique within the paper, e.g. ``"rank-sweep"``.
        statement: the claim in the paper's terms.
        paper_value: the paper's own number(s) and where they come from, e.g.
            ``"DyLoRA within 0.5 points of LoRA at every rank (Table 2)"``.
        run: ``"module:function"`` (imported lazily) or a callable taking a
            ``RunContext`` and returning a ``Result``.
        quick_budget_s: expected wall time of the quick run on 2 CPU cores.
        threads: torch threads the experiment runs on (at most; the allowed cores if
            ``None``). The runner sets it, records it in the result's config and restores the
            previous count afterwards; ``PAPERSHELF_THREADS`` overrides it.
        precondition: what must hold before the comparison says anything, stated before the
            run (e.g. ``"both models reach >= 90 % in-distribution accuracy"``); when it
            fails the claim returns ``holds=None`` (inconclusive) with a ``reason``.
    """

    id: str
    statement: str
    paper_value: str
    run: str | Callable[[RunContext], Result]
    quick_budget_s: float = 120.0
    threads: int | None = None
    precondition: str = ""

    def resolve(self) -> Callable[[RunContext], Result]:
        return resolve_callable(self.run, f"claim {self.id!r}")


@dataclass(frozen=True)
class Paper:
    """A paper package's record.

    Attributes:
        id: the package name, e.g. ``"dylora"``.
        title: the paper's title.
        arxiv: the arXiv id, e.g. ``"2210.07558"``.
        claims: the claims ``reproduce`` runs, in order.
        bench: ``"module:function"`` of the performance comparison (called with
            ``quick: bool`` and returning a ``papershelf.bench.BenchReport``), or ``None``.
        package: the distribution name, when it differs from ``id``.
        bench_threads: torch threads ``bench`` runs on (as ``Claim.threads``); a fixed count
            keeps the ratios comparable from run to run.
    """

    id: str
    title: str
    arxiv: str
    claims: tuple[Claim, ...]
    bench: str | Callable[..., Any] | None = None
    package: str = ""
    bench_threads: int | None = None

    def __post_init__(self) -> None:
        ids = [c.id for c in self.claims]
        if len(set(ids)) != len(ids):
            raise UserError(f"Paper {self.id!r}: claim ids must be unique, got {ids}")

    @property
    def distribution(self) -> str:
        return self.package or self.id

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        known = ", ".join(c.id for c in self.claims)
        raise UserError(f"claim: {claim_id!r} is not a claim of {self.id}; choose from {known}")


def resolve_callable(target: str | Callable[..., Any], what: str) -> Callable[..., Any]:
    """Import ``"module:function"`` (or return a callable unchanged)."""
    if callable(target):
        return target
    module_name, _, attr = target.partition(":")
    if not attr:
        raise UserError(f"{what}: {target!r} must look like 'module:function'")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UserError(f"{what}: module {module_name!r} has no {attr!r}") from None


def _load(ep) -> Paper:
    try:
        paper = ep.load()
    except ImportError as exc:
        raise UserError(
            f"paper package {ep.name!r} is broken: {ep.value} cannot be imported ({exc})"
        ) from None
    if not isinstance(paper, Paper):
        raise UserError(f"entry point {ep.name!r} ({ep.value}) is not a papershelf.Paper")
    return paper


def discover() -> dict[str, Paper]:
    """All installed papers, by id, from the ``papershelf.papers`` entry points."""
    papers = (_load(ep) for ep in entry_points(group=ENTRY_POINT_GROUP))
    return dict(sorted((p.id, p) for p in papers))


def get_paper(paper_id: str) -> Paper:
    """The installed paper called ``paper_id``, with a clear error if it is not installed.

    Only that paper's entry point is loaded when its name matches the id (``-`` read as
    ``_``), so one broken package does not stop the others.
    """
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if (
            ep.name in (paper_id, paper_id.replace("-", "_"))
            and (paper := _load(ep)).id == paper_id
        ):
            return paper
    papers = discover()
    if paper_id not in papers:
        installed = ", ".join(papers) or "none"
        raise UserError(
            f"paper: {paper_id!r} is not installed (installed: {installed}); "
            f"install it with `uv sync --package {paper_id}`"
        )
    return papers[paper_id]
