"""Throughput of our MAF / NSF against zuko's flows of the same size (same process).

Cases: ``log_prob`` of a batch, a training step (``log_prob`` + backward) and ``sample``,
for D in {2, 8} (quick) or {2, 8, 32} and batch 512 (quick) or {512, 4096}. Ratios are
ours / zuko (lower is faster). zuko lives in the ``bench-flows`` dependency group.
"""

from __future__ import annotations

from papershelf.bench import BenchReport, compare


def _pairs(d: int):
    import zuko

    import flows

    return {
        "MAF": (
            flows.MAF(d, transforms=3, hidden=(64, 64)),
            zuko.flows.MAF(d, transforms=3, hidden_features=(64, 64)),
        ),
        "NSF": (
            flows.NSF(d, transforms=3, hidden=(64, 64), bins=8, mode="autoregressive"),
            zuko.flows.NSF(d, transforms=3, bins=8, hidden_features=(64, 64)),
        ),
    }


def run(quick: bool = True) -> BenchReport:
    import torch

    try:
        import zuko  # noqa: F401
    except ImportError:
        return BenchReport(
            "flows vs zuko",
            [],
            baseline="zuko",
            notes=["zuko is not installed: `uv sync --package flows --group bench-flows`"],
        )
    dims = (2, 8) if quick else (2, 8, 32)
    batches = (512,) if quick else (512, 4096)
    repeats = 5 if quick else 9
    rows = []
    torch.manual_seed(0)
    for d in dims:
        for name, (ours, theirs) in _pairs(d).items():
            for n in batches:
                x = torch.randn(n, d)

                def lp(flow=ours, x=x):
                    with torch.no_grad():
                        return flow().log_prob(x)

                def lp_z(flow=theirs, x=x):
                    with torch.no_grad():
                        return flow().log_prob(x)

                def step(flow=ours, x=x):
                    flow.zero_grad()
                    (-flow().log_prob(x).mean()).backward()

                def step_z(flow=theirs, x=x):
                    flow.zero_grad()
                    (-flow().log_prob(x).mean()).backward()

                def smp(flow=ours, n=n):
                    with torch.no_grad():
                        return flow().sample((n,))

                def smp_z(flow=theirs, n=n):
                    with torch.no_grad():
                        return flow().sample((n,))

                for what, a, b in (
                    ("log_prob", lp, lp_z),
                    ("train step", step, step_z),
                    ("sample", smp, smp_z),
                ):
                    params = {"flow": name, "op": what, "D": d, "batch": n}
                    rows += compare(
                        {f"zuko {name}": b, f"ours {name}": a},
                        baseline=f"zuko {name}",
                        params=params,
                        warmup=2,
                        repeats=repeats,
                    )
    notes = [
        "time ratio = ours / zuko in the same process (lower is faster); 3 transforms, MADE 64x64, "
        "NSF: 8 bins, autoregressive (zuko's NSF is RQ-AR)",
        "sampling a MAF/NSF takes D MADE passes per transform in both libraries",
        "command: `uv run flows bench` (quick) or `uv run flows bench --full`",
    ]
    return BenchReport("flows vs zuko (MAF, NSF)", rows, baseline="zuko", notes=notes)
