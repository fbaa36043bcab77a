from __future__ import annotations

import time

import pytest
from dylora.bench import interleaved


def test_interleaved_ratios():
    cases = {"fast": lambda: time.sleep(0.002), "slow": lambda: time.sleep(0.02)}
    rows = interleaved(cases, "fast", what="sleep", warmup=1, repeats=5)
    by = {r.name: r for r in rows}
    assert by["fast"].ratio == 1.0
    assert by["slow"].ratio > 3
    assert by["slow"].params == {"what": "sleep"}


@pytest.mark.slow
def test_bench_quick_report():
    from dylora.bench import run

    report = run(quick=True)
    names = [r.name for r in report.rows]
    assert "DyLoRA merged (b = 8)" in names and report.baseline in names
