"""The bench's helpers (the full bench is slow and runs with ``-m slow``)."""

from __future__ import annotations

import pytest


def test_interleaved_rows_are_ratios_to_the_baseline():
    from krona.bench import interleaved

    rows = interleaved(
        {"base": lambda: sum(range(2000)), "other": lambda: sum(range(8000))},
        "base",
        {"what": "t"},
        warmup=1,
        repeats=5,
    )
    by = {r.name: r for r in rows}
    assert (
        by["base"].ratio == 1.0 and by["other"].ratio > 1.0 and by["other"].params == {"what": "t"}
    )


@pytest.mark.slow
def test_full_quick_bench_runs():
    from krona.bench import run
    from papershelf.bench import BenchReport

    report = run(quick=True)
    assert isinstance(report, BenchReport)
    names = {r.name for r in report.rows}
    assert {"fast kron_linear", "krona merged", "krona 16x16⊗24x24 (9984 params)"} <= names
