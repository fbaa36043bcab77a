"""The three flow papers' claims (light: no torch import).

Every claim trains tiny 2-D flows, so each runs on one torch thread (``threads=1``, applied
by papershelf's runner; ``PAPERSHELF_THREADS`` overrides it).
"""

from papershelf.registry import Claim, Paper

PAPER = Paper(
    id="flows",
    title=(
        "Normalizing Flows: An Introduction and Review of Current Methods; Tails of Lipschitz "
        "Triangular Flows; Equivariant Finite Normalizing Flows"
    ),
    arxiv="1908.09257",
    claims=(
        Claim(
            id="taf-tails",
            statement=(
                "A MAF with a Gaussian base (linear growth) cannot produce heavy tails; the same "
                "MAF with a Student-t base of learnable nu (TAF) learns nu near the target's 2 "
                "and fits the far tail; with one nu per dimension (gTAF) on t2 x t5 marginals it "
                "learns a heavier tail for the t2 coordinate than for the t5 one."
            ),
            paper_value=(
                "Tails paper (arXiv 1907.04481): qualitative (Gaussian-base Lipschitz "
                "triangular flows keep light tails; TAF fixes it); no table number is used"
            ),
            run="flows.claims.taf_tails:run",
            quick_budget_s=40.0,
            precondition=(
                "the Gaussian-base MAF fits the bulk: its bulk test NLL is within 0.5 nats of "
                "TAF's (otherwise its tail gap says nothing)"
            ),
            threads=1,  # tiny models: intra-op threads only add overhead
        ),
        Claim(
            id="spline-vs-affine",
            statement=(
                "At equal depth, rational-quadratic autoregressive splines (NSF RQ-AR, the row "
                "the review's table cites) reach a lower test NLL than affine couplings "
                "(RealNVP) on 2-D toy densities."
            ),
            paper_value=(
                "Review (arXiv 1908.09257) tabular table: NSF RQ-AR above RealNVP on every "
                "UCI set, e.g. POWER 0.66 vs 0.17 nats log-likelihood (unverified)"
            ),
            run="flows.claims.spline_vs_affine:run",
            quick_budget_s=60.0,
            precondition=(
                "every density integrates to 1 within 1e-2 and no checkerboard test NLL is "
                "below the true entropy log 32 - 0.02"
            ),
            threads=1,  # tiny models: intra-op threads only add overhead
        ),
        Claim(
            id="equivariant-efficiency",
            statement=(
                "On a symmetric density, a G-residual flow is more data-efficient than a plain "
                "residual flow of the same size: at equal training-set size n, over a learning "
                "curve in n, it reaches a lower test NLL; and its density is exactly G-invariant."
            ),
            paper_value=(
                "EFNF (arXiv 2110.08649): lower bits/dim and better data efficiency than "
                "non-equivariant flows; exact values unverified"
            ),
            run="flows.claims.equivariant_efficiency:run",
            quick_budget_s=90.0,
            precondition=(
                "the plain ResFlow learned the density at the largest n of the curve: test NLL "
                "<= 3.76 nats (the best single Gaussian's 4.26 - 0.5); and every NLL difference "
                "is outside the declared +-0.05-nat seed-noise band"
            ),
            threads=1,  # tiny models: intra-op threads only add overhead
        ),
    ),
    bench="flows.bench:run",
)
