"""C1 (review): at equal depth, the rational-quadratic spline flow of the row the review's
table cites (NSF RQ-AR: autoregressive RQ splines) reaches a lower test NLL than affine
couplings (RealNVP, the table's row) on 2-D toy densities.

Rule, fixed before the run: precondition (``verdict``): every density integrates to 1 within
1e-2 (400^2 grid + the sample fraction outside) and no test NLL is below the checkerboard's
true entropy - 0.02 (a density scoring below the entropy is not a correct density);
otherwise inconclusive. Holds if NSF's mean test NLL < RealNVP's on every data set.

Until 0.2 the claim ran RQ *coupling* splines while citing the RQ-AR row; the coupling
variant is still run by ``--full`` and reported, not judged."""

from __future__ import annotations

import time

import torch
from papershelf.registry import Result, RunContext
from papershelf.seeding import seed_everything

from flows.data import CHECKERBOARD_ENTROPY, toy
from flows.fitting import fit, mean_nll
from flows.flow import NSF, RealNVP
from flows.metrics import grid_mass
from flows.plots import plot_densities

BOX = 6.0


def _models(layers: int, quick: bool = True):
    models = {
        "RealNVP": lambda: RealNVP(2, transforms=layers, hidden=(64, 64)),
        "NSF": lambda: NSF(
            2, transforms=layers, hidden=(64, 64), bins=8, bound=4.0, mode="autoregressive"
        ),
    }
    if not quick:  # reported only: the variant this claim ran before 0.2
        models["NSF coupling"] = lambda: NSF(
            2, transforms=layers, hidden=(64, 64), bins=8, bound=4.0, mode="coupling"
        )
    return models


def verdict(
    mean: dict[str, dict[str, float]], masses: dict[str, list[float]]
) -> tuple[bool | None, str]:
    """``(holds, reason)``: precondition on mass and the entropy bound, then NSF < RealNVP."""
    bad_mass = {m: v for m, ms in masses.items() for v in ms if abs(v - 1) > 1e-2}
    if bad_mass:
        return None, f"a density does not integrate to 1 within 1e-2: {bad_mass}"
    cb = mean.get("checkerboard", {})
    below = {m: v for m, v in cb.items() if v < CHECKERBOARD_ENTROPY - 0.02}
    if below:
        return None, f"test NLL below the true entropy {CHECKERBOARD_ENTROPY:.3f} - 0.02: {below}"
    losers = [d for d, row in mean.items() if not row["NSF"] < row["RealNVP"]]
    if losers:
        return False, f"RealNVP is at least as good as NSF RQ-AR on {', '.join(losers)}"
    return True, ""


def _mass(flow) -> float:
    d = flow()
    with torch.no_grad():
        s = d.sample((20000,))
    outside = float((s.abs() > BOX).any(-1).float().mean())
    return grid_mass(d.log_prob, box=BOX, n=400, outside_fraction=outside)


def run(ctx: RunContext) -> Result:
    quick = ctx.quick
    datasets = ["checkerboard"] if quick else ["checkerboard", "moons", "rings", "8gaussians"]
    seeds = [ctx.seed] if quick else [ctx.seed + i for i in range(3)]
    steps, layers, batch = (1500 if quick else 3000, 4, 512)
    n_train, n_test = 20000, 5000
    table: dict[str, dict[str, list[float]]] = {}
    masses: dict[str, list[float]] = {}
    plots: list[str] = []
    start = time.perf_counter()
    for name in datasets:
        table[name] = {m: [] for m in _models(layers, quick)}
        for seed in seeds:
            gen = seed_everything(seed)
            train, test = toy(name, n_train, gen), toy(name, n_test, gen)
            trained = {}
            for model_name, make in _models(layers, quick).items():
                torch.manual_seed(seed)
                flow = make()
                fit(
                    flow,
                    train,
                    steps=steps,
                    batch_size=batch,
                    lr=1e-3,
                    seed=seed,
                    max_grad_norm=None,
                )
                table[name][model_name].append(mean_nll(flow, test))
                masses.setdefault(model_name, []).append(_mass(flow))
                trained[model_name] = flow
            if seed == seeds[0]:
                panels = {"data": test, **{k: v().log_prob for k, v in trained.items()}}
                plots.append(
                    plot_densities(ctx.plot_path(f"c1_{name}"), panels, box=4.5, title=name)
                )
    mean = {d: {m: sum(v) / len(v) for m, v in row.items()} for d, row in table.items()}
    holds, reason = verdict(mean, masses)
    cb = mean["checkerboard"]
    return Result(
        metric="checkerboard test NLL (nats), NSF RQ-AR",
        ours=cb["NSF"],
        baseline=cb["RealNVP"],
        baseline_name=f"RealNVP, {layers} affine couplings (same MLP, same steps)",
        holds=holds,
        reason=reason if holds is None else "",
        details={
            "mean_test_nll": mean,
            "per_seed_test_nll": table,
            "grid_mass": masses,
            "true_entropy_checkerboard": CHECKERBOARD_ENTROPY,
            "verdict_detail": reason,
            "seconds": time.perf_counter() - start,
        },
        plots=plots,
        config={
            "datasets": datasets,
            "seeds": seeds,
            "steps": steps,
            "layers": layers,
            "batch": batch,
            "hidden": [64, 64],
            "nsf": "autoregressive (RQ-AR, the cited row)",
            "bins": 8,
            "bound": 4.0,
            "lr": 1e-3,
            "n_train": n_train,
            "n_test": n_test,
            "grid": {"box": BOX, "n": 400},
        },
        note="Lower NLL is better; the checkerboard's true entropy (3.466) bounds every NLL from below.",
    )
