"""The paper record and the cheapest claim's quick run."""

from __future__ import annotations

import json

from papershelf.registry import Paper, Result, discover


def test_paper_is_registered_and_light():
    from krona.paper import PAPER

    assert isinstance(PAPER, Paper) and PAPER.id == "krona" and PAPER.arxiv == "2212.10650"
    assert discover()["krona"] is PAPER or discover()["krona"].id == "krona"
    assert {c.id for c in PAPER.claims} == {"structure", "equal-budget", "inference-cost"}
    for claim in PAPER.claims:
        assert callable(claim.resolve())
        assert claim.run == f"krona.claims.{claim.id.replace('-', '_')}:run"
        assert claim.threads == 1  # one thread per process is fastest on a shared 2-core box
    assert PAPER.bench_threads == 1


def test_cheapest_claim_quick_run(run_claim, tmp_path):
    """The structure claim (the cheapest): schema, and its direction, which a fixed seed makes stable."""
    from krona.paper import PAPER

    claim = min(PAPER.claims, key=lambda c: c.quick_budget_s)
    assert claim.id == "structure"
    result = run_claim(claim.id)
    assert isinstance(result, Result)
    json.dumps(result.details)
    errors = result.details["errors"]
    for fam in ("identity+noise", "exact-kronecker"):
        assert errors[fam]["krona_closed"] < errors[fam]["lora_r1_closed"]
    for fam in ("rank-1", "power-law"):
        assert errors[fam]["lora_r1_closed"] < errors[fam]["krona_closed"]
    assert (
        errors["exact-kronecker"]["krona_closed"] < 1e-10
        and errors["rank-1"]["lora_r1_closed"] < 1e-10
    )
    assert result.holds is True
    assert result.details["trained_within_tolerance"]
    assert (tmp_path / result.plots[0]).is_file()
