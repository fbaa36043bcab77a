"""The benchmark runs and reports ratios to fine-tuning's step and to the KD loss."""

import pytest


@pytest.mark.slow
def test_bench_reports_ratios():
    from continuation_kd.bench import run

    report = run(quick=True)
    names = {r.name for r in report.rows}
    assert {
        "step/finetune",
        "step/continuation",
        "step/continuation psi=1",
        "loss/continuation",
    } <= names
    assert all(r.ratio > 0 for r in report.rows)
