"""Claim (paper abstract): OTTAWA's scores have "the ability to distinguish between both error
types" -- its hall score ranks hallucinations above omissions and its omi score the reverse.

H-vs-O ROC-AUC: hallucination variants (small, partial) = 1, omission variants = 0.
Rule, fixed before the run: holds if OTTAWA-hall >= 0.75 and OTTAWA-omi <= 0.25 on every run.
Sentence cosine's AUC is reported beside it, not asserted (the paper states nothing about it).
"""

from __future__ import annotations

from papershelf.registry import Result, RunContext

from ottawa.synthetic_eval import benchmark_settings, claim_config, run_benchmark

QUICK_SOURCES = 120


def decide(hall: list[float], omi: list[float]) -> bool:
    """The rule: every run has hall AUC >= 0.75 and omi AUC <= 0.25."""
    return all(h >= 0.75 for h in hall) and all(o <= 0.25 for o in omi)


def run(ctx: RunContext) -> Result:
    settings = benchmark_settings(ctx.quick, ctx.seed, QUICK_SOURCES)
    runs = [run_benchmark(n, d, s, ctx.device) for n, d, s in settings]
    hall = [r["summary"]["ottawa"]["hvo_hall"] for r in runs]
    omi = [r["summary"]["ottawa"]["hvo_omi"] for r in runs]
    cos = [r["summary"]["cosine"]["hvo_hall"] for r in runs]
    return Result(
        metric="H-vs-O ROC-AUC of the OTTAWA hall score (hallucinations = 1, omissions = 0)",
        ours=min(hall),
        baseline=1.0 - max(omi),
        baseline_name="1 - H-vs-O ROC-AUC of the OTTAWA omi score (same rule: >= 0.75)",
        holds=decide(hall, omi),
        details={
            "ottawa_hvo_hall": hall,
            "ottawa_hvo_omi": omi,
            "reported_not_asserted_cosine_hvo": cos,
            "per_method": [r["summary"] for r in runs],
            "thresholds": "hall >= 0.75, omi <= 0.25",
        },
        config=claim_config(settings),
        note="A mechanism check on synthetic English pairs with the monolingual MiniLM; hall-full "
        "is left out of H-vs-O (it is a full omission too; *_incl_full in details keeps it).",
    )
