from importlib.metadata import entry_points

from dyngraph_survey_models.paper import PAPER
from papershelf.registry import ENTRY_POINT_GROUP


def test_paper_registered():
    (ep,) = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "dyngraph_survey_models"]
    assert ep.load() is PAPER
    paper = PAPER
    assert {c.id for c in paper.claims} == {
        "memory-beats-static",
        "negative-sampling",
        "snapshots-lose-order",
    }
    cheapest = min(paper.claims, key=lambda c: c.quick_budget_s)
    assert cheapest.quick_budget_s <= 30


def test_claims_run_on_one_thread_from_their_modules():
    for c in PAPER.claims:
        assert c.run == f"dyngraph_survey_models.claims.{c.id.replace('-', '_')}:run"
        assert c.threads == 1
    assert PAPER.bench_threads == 1
