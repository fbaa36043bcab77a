"""The paper record (light: no torch import; each claim runs ``bosch.claims.<id>:run``)."""

from __future__ import annotations

from papershelf.registry import Claim, Paper

PAPER = Paper(
    id="bosch",
    title="BOSCH: Black-Box Binary Optimization for Short-Context Attention-Head Selection in LLMs",
    arxiv="2604.05942",
    claims=(
        Claim(
            id="bosch-vs-baselines",
            statement="BOSCH's head selection beats layer-level and static head-level selection "
            "of SWA heads at ratios 0.25/0.5/0.75/0.875, more so at high ratios.",
            paper_value="NIAH, Qwen3-8B (summaries, unverified): BOSCH 98.9/90.3/72.7/42.5 vs "
            "FISHER 94.2/89.3/63.4/29.0, RAND 45.9/15.4/12.8/13.2",
            run="bosch.claims.bosch_vs_baselines:run",
            precondition="the full-attention tiny model solves retrieval (test accuracy >= 0.9) "
            "and the all-SWA model does not (<= 0.5)",
            quick_budget_s=90.0,
            threads=1,
        ),
        Claim(
            id="turnover",
            statement="The selected head sets at different ratios are not nested: substantial "
            "turnover across ratios (static rankings are nested).",
            paper_value="abstract: 'substantial turnover'; summaries: 26-44 % (unverified)",
            run="bosch.claims.turnover:run",
            precondition="the full-attention tiny model solves retrieval (test accuracy >= 0.9) "
            "and the all-SWA model does not (<= 0.5)",
            quick_budget_s=5.0,
            threads=1,
        ),
        Claim(
            id="stage-ablation",
            statement="Every stage matters: full BOSCH beats B-single, B-multi and B-layer.",
            paper_value="Qwen3-8B, ρ = 0.5, NIAH (summaries, unverified): BOSCH 90.3, B-single "
            "88.9, B-multi 88.8, B-layer 89.7",
            run="bosch.claims.stage_ablation:run",
            precondition="the full-attention tiny model solves retrieval (test accuracy >= 0.9) "
            "and the all-SWA model does not (<= 0.5)",
            quick_budget_s=20.0,
            threads=1,
        ),
        Claim(
            id="kv-saving",
            statement="Converting a fraction ρ of KV heads to SWA with window W saves ρ(1 - W/T) "
            "of the KV cache at context T.",
            paper_value="W = 1024, T = 32k: 24.2/48.4/72.7/84.8 % at ρ = 0.25/0.5/0.75/0.875 (computed)",
            run="bosch.claims.kv_saving:run",
            quick_budget_s=3.0,
            threads=1,
        ),
    ),
    bench="bosch.bench:run",
    bench_threads=1,
)
