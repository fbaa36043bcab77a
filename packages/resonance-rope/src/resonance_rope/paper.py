"""The paper record (light: no torch import; each claim runs ``resonance_rope.claims.<id>:run``).

The PosGen claims share one precondition and one rule (``resonance_rope.posgen_table``): every
compared model reaches 90 % in-distribution accuracy, then a 95 % paired interval over seeds
decides (on the paper's side of 0: holds; on the other: does not; containing 0: inconclusive).
"""

from __future__ import annotations

from papershelf.registry import Claim, Paper

_POSGEN_PRECONDITION = (
    "every trained model the claim compares (each seed) reaches >= 90 % in-distribution accuracy "
    "under its training RoPE; the verdict then needs the 95 % paired interval over seeds of each "
    "OOD difference to exclude 0 (3 seeds quick, 5 full)"
)

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
            quick_budget_s=15.0,
            precondition="none (exact computation); the float32 transformers path is measured and "
            "reported beside it, not asserted",
        ),
        Claim(
            id="posgen-cot",
            statement="On PosGen CoT (train 64, test 256), Resonance RoPE > RoPE and Resonance-YaRN > YaRN "
            "in OOD accuracy.",
            paper_value="Table 1 CoT OOD %: RoPE 69.56 -> Resonance 75.25; YaRN 98.71 -> Resonance-YaRN 99.58",
            run="resonance_rope.claims.posgen_cot:run",
            quick_budget_s=40.0,
            threads=1,  # a model this small runs fastest on one thread of a shared machine
            precondition=_POSGEN_PRECONDITION,
        ),
        Claim(
            id="posgen-yarn",
            statement="On PosGen CoT, YaRN (s = 257/65, switched on at evaluation as in the official "
            "code) > RoPE in OOD accuracy.",
            paper_value="Table 1 CoT OOD %: RoPE 69.56 -> YaRN 98.71",
            run="resonance_rope.claims.posgen_yarn:run",
            quick_budget_s=30.0,  # ~0 s after posgen-cot in the same process (shared models)
            threads=1,
            precondition=_POSGEN_PRECONDITION,
        ),
        Claim(
            id="posgen-semi-recursive",
            statement="On PosGen semi-recursive (train 64, test 256), Resonance RoPE > RoPE and "
            "Resonance-YaRN > YaRN in OOD accuracy.",
            paper_value="Table 1 Semi-Rec. OOD %: RoPE 17.96 -> Resonance 29.78; YaRN 33.70 -> Resonance-YaRN 48.46",
            run="resonance_rope.claims.posgen_semi_recursive:run",
            quick_budget_s=40.0,
            threads=1,
            precondition=_POSGEN_PRECONDITION,
        ),
        Claim(
            id="posgen-recursive",
            statement="On PosGen recursive (train 64, test 256), Resonance RoPE < RoPE (post-critical "
            "extrapolation dominates) while Resonance-YaRN > YaRN in OOD accuracy.",
            paper_value="Table 1 Recursive OOD %: RoPE 65.29 -> Resonance 62.64; YaRN 95.93 -> Resonance-YaRN 98.30",
            run="resonance_rope.claims.posgen_recursive:run",
            quick_budget_s=40.0,
            threads=1,
            precondition=_POSGEN_PRECONDITION,
        ),
    ),
    bench="resonance_rope.bench:run",
    bench_threads=1,  # 2 threads on the shared 2-core VM time in scheduler quanta (16 ms steps)
)
