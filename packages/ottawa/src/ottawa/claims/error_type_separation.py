"""Claim: OTTAWA's hall score ranks hallucinations above omissions, its omi score the
reverse; a sentence-similarity score cannot tell the two error types apart.

H-vs-O ROC-AUC: hallucination variants (small, partial) = 1, omission variants = 0.
Holds if OTTAWA-hall >= 0.75, OTTAWA-omi <= 0.25 and |cosine - 0.5| <= 0.15 on every run.
"""

from __future__ import annotations

from papershelf.registry import Result, RunContext

from ottawa.synthetic_eval import benchmark_settings, claim_config, run_benchmark

QUICK_SOURCES = 120


def run(ctx: RunContext) -> Result:
    settings = benchmark_settings(ctx.quick, ctx.seed, QUICK_SOURCES)
    runs = [run_benchmark(n, d, s, ctx.device) for n, d, s in settings]
    hall = [r["summary"]["ottawa"]["hvo_hall"] for r in runs]
    omi = [r["summary"]["ottawa"]["hvo_omi"] for r in runs]
    cos = [r["summary"]["cosine"]["hvo_hall"] for r in runs]
    holds = (
        all(h >= 0.75 for h in hall)
        and all(o <= 0.25 for o in omi)
        and all(abs(c - 0.5) <= 0.15 for c in cos)
    )
    return Result(
        metric="H-vs-O ROC-AUC of the OTTAWA hall score (hallucinations = 1, omissions = 0)",
        ours=min(hall),
        baseline=cos[0] if len(cos) == 1 else max(cos, key=lambda c: abs(c - 0.5)),
        baseline_name="sentence cosine (MiniLM), same AUC",
        holds=holds,
        details={
            "ottawa_hvo_hall": hall,
            "ottawa_hvo_omi": omi,
            "cosine_hvo": cos,
            "per_method": [r["summary"] for r in runs],
            "thresholds": "hall >= 0.75, omi <= 0.25, |cosine - 0.5| <= 0.15",
        },
        config=claim_config(settings),
        note="Synthetic English pairs, monolingual MiniLM; hall-full is left out of H-vs-O "
        "(it is a full omission too; *_incl_full in details keeps it).",
    )
