"""The paper record is light and valid (one module per claim, one thread each); the cheapest
claim's quick run returns a valid Result."""

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
        assert claim.run == f"flows.claims.{claim.id.replace('-', '_')}:run"
        assert claim.threads == 1  # tiny models: the runner pins one torch thread


def _run(claim_id: str, tmp_path) -> Result:
    """Run a claim as papershelf's runner does: on the claim's threads, seeded."""
    from flows.paper import PAPER
    from papershelf.seeding import seed_everything
    from papershelf.threads import torch_threads

    claim = PAPER.claim(claim_id)
    with torch_threads(claim.threads):
        seed_everything(0)
        return claim.resolve()(RunContext(quick=True, seed=0, out=tmp_path))


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
    result = _run("taf-tails", tmp_path)
    _check(result)
    row = result.details["per_seed"][0]
    # direction stable at this seed: the Gaussian base misses the far tail by far more
    assert row["gap_gaussian_R3000"] > 10 * row["gap_taf_R3000"]
    assert 1.0 < row["nu"] < 4.0
    assert (tmp_path / result.plots[0]).is_file()


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", ["spline-vs-affine", "equivariant-efficiency"])
def test_other_claims_quick_run(claim_id, tmp_path):
    _check(_run(claim_id, tmp_path))
