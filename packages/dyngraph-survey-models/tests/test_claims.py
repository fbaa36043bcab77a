import math

from dyngraph_survey_models.paper import PAPER
from papershelf.registry import Result, RunContext


def test_cheapest_claim_quick_run(tmp_path):
    paper = PAPER
    cheapest = min(paper.claims, key=lambda c: c.quick_budget_s)
    r = cheapest.resolve()(RunContext(quick=True, seed=0, out=tmp_path))
    assert isinstance(r, Result)
    assert isinstance(r.holds, bool) and math.isfinite(r.ours)
    models = r.details["models"]
    assert r.details["every_model_lower_with_historical"] == all(
        models[m]["historical"]["ap"] < models[m]["random"]["ap"] for m in models
    )
    assert r.ours == models["edgebank"]["random"]["ap"] - models["edgebank"]["historical"]["ap"]
