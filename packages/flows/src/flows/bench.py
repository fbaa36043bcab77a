"""Throughput of our MAF / NSF against zuko's flows of the same size (same process), and how
the cost grows with the dimension D.

Cases: ``log_prob`` of a batch, a training step (``papershelf.train.training_step``:
``log_prob``, backward, an Adam step) and ``sample``, over D in {2, 4, 8, 16, 32, 64} at
batch 512 (``--full`` adds batch 4096). Ratios are ours / zuko (lower is faster); the notes
give each case's fitted growth exponent ``b`` in ``time ~ D^b`` (``papershelf.bench``).
zuko lives in the ``bench-flows`` dependency group.
"""

from __future__ import annotations

from papershelf.bench import BenchReport, compare, growth_notes

DIMS = (2, 4, 8, 16, 32, 64)


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


def _nll(flow, x):
    return -flow().log_prob(x).mean()


def _ops(flow, x):
    """The timed calls on one flow: ``log_prob`` of ``x``, a training step, ``len(x)`` samples."""
    import torch
    from papershelf.train import training_step

    step = training_step(flow, _nll, torch.optim.Adam(flow.parameters(), lr=1e-4))

    def log_prob():
        with torch.no_grad():
            return flow().log_prob(x)

    def train_step():
        return step(x)

    def sample():
        with torch.no_grad():
            return flow().sample((len(x),))

    return {"log_prob": log_prob, "train step": train_step, "sample": sample}


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
    dims = DIMS
    batches = (512,) if quick else (512, 4096)
    repeats = 5 if quick else 9
    rows = []
    torch.manual_seed(0)
    for d in dims:
        for name, (ours, theirs) in _pairs(d).items():
            for n in batches:
                x = torch.randn(n, d)
                mine, zukos = _ops(ours, x), _ops(theirs, x)
                for what in mine:
                    params = {"D": d, "batch": n}
                    rows += compare(
                        {f"zuko {name} {what}": zukos[what], f"ours {name} {what}": mine[what]},
                        baseline=f"zuko {name} {what}",
                        params=params,
                        warmup=2,
                        repeats=repeats,
                    )
    notes = [
        "time ratio = ours / zuko in the same process (lower is faster); 3 transforms, MADE 64x64, "
        "NSF: 8 bins, autoregressive (zuko's NSF is RQ-AR)",
        "train step = papershelf.train.training_step: log_prob, backward and an Adam step",
        "sampling a MAF/NSF takes D MADE passes per transform in both libraries",
        "command: `uv run flows bench` (quick) or `uv run flows bench --full`",
        "growth over D at batch 512 (least-squares slope of log time on log D):",
        *growth_notes([r for r in rows if r.params["batch"] == 512], "D"),
    ]
    return BenchReport("flows vs zuko (MAF, NSF)", rows, baseline="zuko", notes=notes)
