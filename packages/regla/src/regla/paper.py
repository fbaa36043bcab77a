"""The paper record (light: no torch import; each claim runs ``regla.claims.<id>:run``)."""

from __future__ import annotations

from papershelf.registry import Claim, Paper

PAPER = Paper(
    id="regla",
    title="ReGLA: Refining Gated Linear Attention",
    arxiv="2502.01578",
    claims=(
        Claim(
            id="bounded-outputs",
            statement="A bounded non-negative feature map (safe exp) with output normalisation keeps "
            "outputs bounded as the sequence grows, where unnormalised ReLU / ELU+1 linear attention grows.",
            paper_value="Table 1 motivation (qualitative; unverified in the paper text)",
            run="regla.claims.bounded_outputs:run",
            precondition="none (inference on a random layer)",
            quick_budget_s=10.0,
            threads=1,
        ),
        Claim(
            id="gate-saturation",
            statement="With gates initialised near saturation, refined gates move away from 1 while "
            "vanilla GLA gates stay near the extreme.",
            paper_value="Section 5.1, Figure 4 (qualitative, no numbers)",
            run="regla.claims.gate_saturation:run",
            precondition="every run learned the decay task: held-out normalised MSE < 0.5",
            quick_budget_s=45.0,
            threads=1,
        ),
        Claim(
            id="recall-proxy",
            statement="ReGLA beats the other linear variants (GLA, linear attention) and the hybrid "
            "(softmax + ReGLA) is best; quick proxy on associative recall.",
            paper_value="Table 5 (post-linearised Pythia-160m): avg 0-shot ReGLA 45.3 vs Fast Decay 44.9, "
            "Hedgehog 44.9, ReLU 43.0, Scalar Gate 42.8, Pythia-160m 44.5",
            run="regla.claims.recall_proxy:run",
            precondition="every model learned associative recall: mean recall accuracy >= 0.5 "
            "(chance 2/vocab)",
            quick_budget_s=60.0,
            threads=1,
        ),
        Claim(
            id="decode-time",
            statement="Per-token decoding time stays flat for ReGLA, and grows with the generation "
            "length for softmax attention with a KV cache.",
            paper_value="Section 5 speed/memory curves, generation lengths 2^6..2^13 on a V100 (curves only)",
            run="regla.claims.decode_time:run",
            precondition="none (timing; one torch thread)",
            quick_budget_s=30.0,
            threads=1,
        ),
    ),
    bench="regla.bench:run",
    bench_threads=1,
)
