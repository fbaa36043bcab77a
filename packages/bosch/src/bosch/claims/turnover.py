"""C2: optimal SWA sets at consecutive ratios are not nested (static rankings are, by construction).

Rule (fixed before the run): holds if the oracle's or BOSCH's turnover (fraction of the SWA
set at the lower ratio missing from the set at the next ratio) is > 0 for some consecutive
pair. The static rankings' turnovers are reported (0 by construction).
"""

from __future__ import annotations

import itertools

from papershelf.registry import Result, RunContext

from bosch.compare import STATIC_METHODS, failure_reason, method_table, precondition, setup_details
from bosch.workflow import quick_setup


def run(ctx: RunContext) -> Result:
    setup = quick_setup(ctx.seed)
    details = setup_details(setup)
    if not precondition(setup):
        return Result(
            metric="max turnover",
            ours=float("nan"),
            holds=None,
            details=details,
            reason=failure_reason(setup),
        )
    rows = method_table(ctx.seed)["rows"]
    ratios = sorted(rows)
    turnover: dict[str, list[float]] = {}
    for name in ("bosch", "oracle", *STATIC_METHODS):
        turnover[name] = [
            rows[a]["masks"][name].turnover(rows[b]["masks"][name])
            for a, b in itertools.pairwise(ratios)
        ]
    ours = max(turnover["bosch"] + turnover["oracle"])
    static = max(v for k in STATIC_METHODS for v in turnover[k])
    details.update(pairs=[f"{a}->{b}" for a, b in itertools.pairwise(ratios)], turnover=turnover)
    return Result(
        metric="max turnover between consecutive ratios (BOSCH or oracle)",
        ours=ours,
        baseline=static,
        baseline_name="static rankings (nested: 0 by construction)",
        holds=ours > 0,
        details=details,
        config={"ratios": ratios, "seed": ctx.seed},
        note="paper (summaries): 26-44 % turnover; here 8 decision variables",
    )
