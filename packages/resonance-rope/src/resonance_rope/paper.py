"""The paper record (light: no torch import; each claim runs ``resonance_rope.claims.<id>:run``)."""

from __future__ import annotations

from papershelf.registry import Claim, Paper

PAPER = Paper(
    id="resonance-rope",
    title="Resonance RoPE: Improving Context Length Generalization of Large Language Models",
    arxiv="2403.00071",
    claims=(
        Claim(
            id="feature-gap",
            statement="Rounding wavelengths to integers makes the feature gap (eq. 8) exactly 0 on every "
            "pre-critical pair (Theorem 1), for RoPE and for YaRN, while unrounded RoPE/YaRN have a positive gap.",
            paper_value="h_i = 0 for all pre-critical i under Resonance (Theorem 1); > 0 under RoPE",
            run="resonance_rope.claims.feature_gap:run",
            quick_budget_s=10.0,
        ),
        Claim(
            id="posgen-cot",
            statement="On PosGen CoT (train 64, test 256), Resonance RoPE >= RoPE and Resonance-YaRN >= YaRN "
            "in OOD accuracy.",
            paper_value="Table 1 CoT OOD %: RoPE 69.56 -> Resonance 75.25; YaRN 98.71 -> Resonance-YaRN 99.58",
            run="resonance_rope.claims.posgen_cot:run",
            quick_budget_s=150.0,
            threads=1,  # a model this small runs fastest on one thread of a shared machine
        ),
        Claim(
            id="posgen-semi-recursive",
            statement="On PosGen semi-recursive (train 64, test 256), Resonance RoPE >= RoPE and "
            "Resonance-YaRN >= YaRN in OOD accuracy.",
            paper_value="Table 1 Semi-Rec. OOD %: RoPE 17.96 -> Resonance 29.78; YaRN 33.70 -> Resonance-YaRN 48.46",
            run="resonance_rope.claims.posgen_semi_recursive:run",
            quick_budget_s=150.0,
            threads=1,
        ),
    ),
    bench="resonance_rope.bench:run",
    bench_threads=1,  # 2 threads on the shared 2-core VM time in scheduler quanta (16 ms steps)
)
