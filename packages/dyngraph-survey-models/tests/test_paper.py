import math
from importlib.metadata import entry_points

from dyngraph_survey_models.paper import PAPER
from papershelf.registry import ENTRY_POINT_GROUP, Result, RunContext


def get_paper(_):
    return PAPER


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


def test_cheapest_claim_quick_run(tmp_path):
    paper = get_paper("dyngraph-survey-models")
    cheapest = min(paper.claims, key=lambda c: c.quick_budget_s)
    r = cheapest.resolve()(RunContext(quick=True, seed=0, out=tmp_path))
    assert isinstance(r, Result)
    assert isinstance(r.holds, bool) and math.isfinite(r.ours)
    models = r.details["models"]
    assert r.details["every_model_lower_with_historical"] == all(
        models[m]["historical"]["ap"] < models[m]["random"]["ap"] for m in models
    )
    assert r.ours == models["edgebank"]["random"]["ap"] - models["edgebank"]["historical"]["ap"]
