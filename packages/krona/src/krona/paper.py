"""The KronA paper's record: three claims and the benchmark (light: no torch import).

Each claim runs ``krona.claims.<claim id with - -> _>:run``. Every claim and the bench run
on one torch thread (``threads=1``, ``bench_threads=1``; applied by papershelf's runner,
``PAPERSHELF_THREADS`` overrides): on a shared 2-core machine one thread per process is
several times faster than two, and the time ratios are unaffected.
"""

from __future__ import annotations

from papershelf.registry import Claim, Paper

PAPER = Paper(
    id="krona",
    title="KronA: Parameter Efficient Tuning with Kronecker Adapter",
    arxiv="2212.10650",
    claims=(
        Claim(
            id="structure",
            statement=(
                "Low-rank updates have limited representation power; a Kronecker update of the same budget "
                "is full-rank. Measured: at LoRA r=1's budget KronA approximates identity-like and "
                "Kronecker-structured updates far better than LoRA, and low-rank ones far worse."
            ),
            paper_value="qualitative (abstract: 'low-rank decomposition suffers from limited representation power')",
            run="krona.claims.structure:run",
            quick_budget_s=25.0,
            threads=1,
        ),
        Claim(
            id="equal-budget",
            statement="At an equal trainable-parameter budget, KronA fine-tunes better than LoRA.",
            paper_value=(
                "T5-base on GLUE, 0.07% trainable: KronA 86.14 vs LoRA 85.73 average "
                "(quoted from the authors' slides, not checked against the paper's Table 1)"
            ),
            run="krona.claims.equal_budget:run",
            precondition=(
                "each method's validation-chosen (scale, lr) learns the task (validation "
                "accuracy >= 0.7, chance 0.25), and the paired 95 % interval over >= 3 seeds "
                "separates the methods (else inconclusive: inside the seed noise)"
            ),
            quick_budget_s=150.0,
            threads=1,
        ),
        Claim(
            id="inference-cost",
            statement=(
                "Merged KronA adds no inference cost; KronA^B and KronA^B_res, which cannot be merged, cost more."
            ),
            paper_value=(
                "latency vs fine-tuning = 100: KronA 100, KronA^B 127, KronA^B_res 136 "
                "(T5 on GPU; quoted from the authors' slides)"
            ),
            run="krona.claims.inference_cost:run",
            precondition=(
                "each forward-time ratio's 95 % bootstrap interval over paired repeats is "
                "decisive: wholly inside or outside [0.95, 1.05] for merged KronA, above 1.02 or "
                "below 1 for the block variants (else inconclusive: inside the timing noise)"
            ),
            quick_budget_s=60.0,
            threads=1,
        ),
    ),
    bench="krona.bench:run",
    bench_threads=1,
)
