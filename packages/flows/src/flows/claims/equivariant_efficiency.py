"""C3 (EFNF): on a symmetric density, a G-residual flow (C4 group averaging) is more
data-efficient than the plain residual flow of the same size: at EQUAL training-set size n,
over a learning curve in n, it reaches a lower test NLL; and its density is invariant to
float precision while the plain one is not.

The rule, fixed before the run (``verdict``):

- precondition: the plain ResFlow learned the multimodal density at the largest n of the
  curve: test NLL <= ``GAUSSIAN_NLL - 0.5`` (the best single Gaussian scores 4.26 nats);
  otherwise the comparison says nothing (inconclusive);
- per seed and n, ``d(n) = NLL_plain(n) - NLL_G(n)`` (paired: same data, same init seed);
  the claim fails if some ``d(n) < -MARGIN`` or a symmetry check fails (G error > 1e-4 or a
  plain error <= 1e-2); it is inconclusive if some ``|d(n)| <= MARGIN`` (inside the declared
  seed-noise band); it holds if every ``d(n) > MARGIN``.

The earlier verdict (G-ResFlow on 64 points vs the plain flow on 4,096) is reported beside,
not used: it mixes the data size with the architecture.
"""

from __future__ import annotations

import math
import time

import torch
from papershelf.registry import Result, RunContext
from papershelf.seeding import seed_everything

from flows.data import eight_gaussians
from flows.equivariant import GResFlow
from flows.fitting import fit, mean_nll
from flows.flow import ResFlow
from flows.groups import C
from flows.metrics import symmetry_error
from flows.plots import plot_densities

# NLL of the best isotropic Gaussian on 8 Gaussians: per-coordinate variance
# radius^2 / 2 + std^2 = 4 + 1/8, NLL = 1 + log(2 pi 4.125)
GAUSSIAN_NLL = 1.0 + math.log(2 * math.pi * 4.125)
LEARNED_BY = 0.5  # the plain flow must beat the Gaussian by this much (precondition)
MARGIN = 0.05  # nats: |d(n)| at or below it is inside the seed-noise band (inconclusive)
G_SYMMETRY_MAX, PLAIN_SYMMETRY_MIN = 1e-4, 1e-2


def verdict(per_seed: list[dict], curve: list[int]) -> tuple[bool | None, str]:
    """``(holds, reason)`` from the per-seed rows (keys ``nll G n=N``, ``nll plain n=N``,
    ``symmetry G n=N``, ``symmetry plain n=N``) under the rule of the module docstring."""
    top = max(curve)
    worst_plain = max(r[f"nll plain n={top}"] for r in per_seed)
    if not worst_plain <= GAUSSIAN_NLL - LEARNED_BY:
        return None, (
            f"the plain ResFlow at n={top} reached test NLL {worst_plain:.3f}, not <= "
            f"{GAUSSIAN_NLL - LEARNED_BY:.3f} (the best Gaussian's {GAUSSIAN_NLL:.3f} - "
            f"{LEARNED_BY}): it did not learn the density"
        )
    gaps = [
        (r[f"nll plain n={n}"] - r[f"nll G n={n}"], n, r["seed"]) for r in per_seed for n in curve
    ]
    sym_ok = all(
        r[f"symmetry G n={n}"] <= G_SYMMETRY_MAX and r[f"symmetry plain n={n}"] > PLAIN_SYMMETRY_MIN
        for r in per_seed
        for n in curve
    )
    if not sym_ok:
        return False, "a symmetry check failed (G error > 1e-4 or plain error <= 1e-2)"
    worst = min(gaps)
    if worst[0] < -MARGIN:
        return (
            False,
            f"the plain flow wins at n={worst[1]} (seed {worst[2]}) by {-worst[0]:.3f} nats",
        )
    close = [g for g in gaps if abs(g[0]) <= MARGIN]
    if close:
        d, n, seed = close[0]
        return None, (
            f"at n={n} (seed {seed}) the NLL difference {d:+.3f} nats is inside the declared "
            f"+-{MARGIN} seed-noise band"
        )
    return True, ""


def run(ctx: RunContext) -> Result:
    quick = ctx.quick
    seeds = [ctx.seed] if quick else [ctx.seed + i for i in range(3)]
    steps, blocks, hidden, batch = (1000, 4, (32, 32), 128) if quick else (2000, 4, (32, 32), 128)
    curve = [64, 512] if quick else [64, 256, 1024, 4096]
    n_large = 4096  # the old comparison's plain-flow size, reported beside
    group = C(4)
    start = time.perf_counter()
    per_seed, plots = [], []
    for seed in seeds:
        gen = seed_everything(seed)
        pool = eight_gaussians(n_large, gen)
        test = eight_gaussians(5000, gen)
        orbit = group.orbit(test)
        runs = [(kind, n) for n in curve for kind in ("G", "plain")]
        if n_large not in curve:
            runs.append(("plain", n_large))
        row: dict = {"seed": seed}
        trained = {}
        for kind, n in runs:
            torch.manual_seed(seed)
            flow = GResFlow(2, group, blocks, hidden) if kind == "G" else ResFlow(2, blocks, hidden)
            fit(
                flow,
                pool[:n],
                steps=steps,
                batch_size=batch,
                lr=1e-3,
                seed=seed,
                max_grad_norm=None,
            )
            row[f"nll {kind} n={n}"] = sum(
                mean_nll(flow, orbit[i]) for i in range(len(orbit))
            ) / len(orbit)
            row[f"symmetry {kind} n={n}"] = symmetry_error(flow().log_prob, test[:1000], group)
            trained[f"{kind} n={n}"] = flow
        per_seed.append(row)
        if seed == seeds[0]:
            panels = {
                f"train n={curve[0]}": pool[: curve[0]],
                **{k: v().log_prob for k, v in trained.items() if k.endswith(f"n={curve[0]}")},
                f"plain n={curve[-1]}": trained[f"plain n={curve[-1]}"]().log_prob,
            }
            plots.append(
                plot_densities(ctx.plot_path("c3_8gaussians"), panels, box=4.0, title="8 Gaussians")
            )

    holds, reason = verdict(per_seed, curve)
    mean = lambda key: sum(r[key] for r in per_seed) / len(per_seed)  # noqa: E731
    learning_curve = {
        f"n={n}": {"G-ResFlow": mean(f"nll G n={n}"), "ResFlow": mean(f"nll plain n={n}")}
        for n in curve
    }
    old = {
        "G-ResFlow n=64": mean("nll G n=64"),
        f"ResFlow n={n_large}": mean(f"nll plain n={n_large}"),
        "G at 64 below plain at 4096": all(
            r["nll G n=64"] < r[f"nll plain n={n_large}"] for r in per_seed
        ),
    }
    return Result(
        metric=f"8-Gaussians test NLL (nats) at equal n={curve[0]}, C4 G-ResFlow",
        ours=mean(f"nll G n={curve[0]}"),
        baseline=mean(f"nll plain n={curve[0]}"),
        baseline_name=f"plain ResFlow of the same size, same {curve[0]} training points",
        holds=holds,
        reason=reason if holds is None else "",
        details={
            "learning_curve_mean_nll": learning_curve,
            "per_seed": per_seed,
            "verdict_detail": reason,
            "reported_beside_not_the_verdict_64_vs_4096": old,
            "gaussian_nll": GAUSSIAN_NLL,
            "true_entropy_approx": 2.84,
            "seconds": time.perf_counter() - start,
        },
        plots=plots,
        config={
            "seeds": seeds,
            "curve_n": curve,
            "n_large_beside": n_large,
            "steps": steps,
            "blocks": blocks,
            "hidden": list(hidden),
            "batch": batch,
            "lr": 1e-3,
            "coeff": 0.97,
            "logdet": "exact",
            "group": "C4",
            "activation": "lipswish",
            "margin_nats": MARGIN,
            "precondition_nll_max": GAUSSIAN_NLL - LEARNED_BY,
            "nll": "averaged over the C4 orbit of the test set",
        },
        note=(
            "Verdict at equal data over the learning curve (paired per seed); the 64-vs-4096 "
            "comparison is in details only. Symmetry error = max over g in C4 and 1000 test "
            "points of |log p(gx) - log p(x)| (float32)."
        ),
    )
