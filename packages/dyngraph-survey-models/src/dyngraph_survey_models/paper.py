"""The paper record (light: no torch import).

Every claim and the bench run on 1 torch thread (tiny ops: extra threads only add sync cost
on a shared CPU); ``PAPERSHELF_THREADS`` overrides it.
"""

from papershelf.registry import Claim, Paper

PAPER = Paper(
    id="dyngraph-survey-models",
    title="Representation Learning for Dynamic Graphs: A Survey",
    arxiv="1905.11485",
    claims=(
        Claim(
            id="memory-beats-static",
            statement=(
                "When links depend on recent history, memory-based continuous-time encoders beat a static-graph "
                "baseline (same decoder, no time) in AP and MRR; the gap shrinks on a graph without temporal structure."
            ),
            paper_value=(
                "qualitative (survey, no experiments); anchor: TGN paper Table 2, Wikipedia transductive AP "
                "TGN-attn 98.46, Jodie 94.62"
            ),
            run="dyngraph_survey_models.claims.memory_beats_static:run",
            quick_budget_s=120.0,
            threads=1,
        ),
        Claim(
            id="negative-sampling",
            statement=(
                "Negative sampling changes conclusions: the same model scores markedly lower with historical "
                "negatives than with random ones (Poursafaei et al. 2022; DyGLib)."
            ),
            paper_value="qualitative (EdgeBank is strong under random negatives and collapses under historical ones)",
            run="dyngraph_survey_models.claims.negative_sampling:run",
            quick_budget_s=30.0,
            threads=1,
        ),
        Claim(
            id="snapshots-lose-order",
            statement=(
                "Cutting a continuous-time graph into snapshots loses the order of events inside a window: "
                "a continuous-time model (TGN) beats snapshot models (GConvGRU, EvolveGCN-O/-H, DySAT) "
                "scored on the same events and negatives."
            ),
            paper_value="qualitative (survey, Sec. on DTDG vs CTDG)",
            run="dyngraph_survey_models.claims.snapshots_lose_order:run",
            quick_budget_s=120.0,
            threads=1,
        ),
    ),
    bench="dyngraph_survey_models.bench:run",
    package="dyngraph-survey-models",
    bench_threads=1,
)
