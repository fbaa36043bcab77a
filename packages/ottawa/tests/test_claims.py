from ottawa.paper import PAPER
from papershelf.registry import Result, RunContext


def test_paper_is_light_and_well_formed():
    assert PAPER.id == "ottawa" and PAPER.arxiv == "2406.01919"
    assert min(c.quick_budget_s for c in PAPER.claims) <= 30


def test_cheapest_claim_quick_run(tmp_path):
    claim = min(PAPER.claims, key=lambda c: c.quick_budget_s)
    res = claim.resolve()(RunContext(quick=True, seed=0, out=tmp_path))
    assert isinstance(res, Result)
    assert 0.0 <= res.ours <= 1.0 and 0.0 <= res.baseline <= 1.0
    per_run = res.details["per_run"][0]
    expected = all(
        per_run["ottawa"][k] > per_run["balanced-ot"][k] for k in ("hall_vs_clean", "omi_vs_clean")
    )
    assert res.holds == expected  # holds is computed from this run's numbers
    assert res.config["benchmark"][0]["pairs"] == 360
