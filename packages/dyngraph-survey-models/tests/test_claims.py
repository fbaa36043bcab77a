import math

import pytest
from dyngraph_survey_models.claims.negative_sampling import verdict
from dyngraph_survey_models.paper import PAPER
from papershelf.registry import Result, RunContext


def _table(eb_random, eb_hist, tgn_random, tgn_hist):
    return {
        "edgebank": {"random": {"ap": eb_random}, "historical": {"ap": eb_hist}},
        "tgn": {"random": {"ap": tgn_random}, "historical": {"ap": tgn_hist}},
    }


@pytest.mark.parametrize(
    ("table", "holds"),
    [
        (_table(0.70, 0.45, 0.60, 0.50), True),
        (_table(0.70, 0.55, 0.60, 0.50), False),  # EdgeBank drops only 0.15
        (_table(0.70, 0.45, 0.50, 0.55), False),  # TGN better with historical negatives
        (_table(0.70, 0.50, 0.60, 0.60), False),  # a tie is not "lower"
    ],
)
def test_negative_sampling_rule(table, holds):
    assert verdict(table)[2] is holds


def test_cheapest_claim_quick_run(tmp_path):
    cheapest = min(PAPER.claims, key=lambda c: c.quick_budget_s)
    r = cheapest.resolve()(RunContext(quick=True, seed=0, out=tmp_path))
    assert isinstance(r, Result) and math.isfinite(r.ours)
    models = r.details["models"]
    eb = models["edgebank"]
    # EdgeBank scores every historical negative 1 (seen before), so it cannot gain from them,
    # and inductive negatives are a subset of historical ones: measured facts, not recomputation
    assert eb["historical"]["ap"] < eb["random"]["ap"]
    assert eb["historical"]["auc"] <= 0.5 + 1e-9 and eb["inductive"]["auc"] <= 0.5 + 1e-9
    assert r.holds is verdict(models)[2]
