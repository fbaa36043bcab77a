"""The paper record is light and valid; the cheapest claim's quick run returns a valid Result."""

from __future__ import annotations

import math

import pytest
from papershelf.registry import Result, RunContext


def test_paper_record():
    from flows.paper import PAPER

    assert PAPER.id == "flows" and len(PAPER.claims) == 3
    cheapest = min(PAPER.claims, key=lambda c: c.quick_budget_s)
    assert cheapest.id == "taf-tails" and cheapest.quick_budget_s <= 30
    for claim in PAPER.claims:
        assert callable(claim.resolve())


def _check(result: Result) -> None:
    assert isinstance(result, Result)
    assert (
        math.isfinite(result.ours)
        and result.baseline is not None
        and math.isfinite(result.baseline)
    )
    assert isinstance(result.holds, bool) and result.config and result.details
    for name in result.plots:
        assert name.endswith(".png")


def test_cheapest_claim_quick_run(tmp_path):
    from flows.claims.taf_tails import run

    result = run(RunContext(quick=True, seed=0, out=tmp_path))
    _check(result)
    row = result.details["per_seed"][0]
    # direction stable at this seed: the Gaussian base misses the far tail by far more
    assert row["gap_gaussian_R3000"] > 10 * row["gap_taf_R3000"]
    assert 1.0 < row["nu"] < 4.0
    assert (tmp_path / result.plots[0]).is_file()


@pytest.mark.slow
@pytest.mark.parametrize("module", ["spline_vs_affine", "equivariant"])
def test_other_claims_quick_run(module, tmp_path):
    import importlib

    run = importlib.import_module(f"flows.claims.{module}").run
    _check(run(RunContext(quick=True, seed=0, out=tmp_path)))
