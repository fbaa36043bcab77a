"""``ottawa bench``: OTTAWA alignment time vs balanced OT and argmax, encoding timed separately."""

from __future__ import annotations

from typing import Any

import numpy as np
from papershelf.bench import BenchReport, compare

LENGTHS = (8, 16, 32, 64, 128)


def _sentence_of(length: int, seed: int) -> tuple[str, str]:
    """A source of ``length`` words (concatenated synthetic sentences) and a perturbed MT."""
    from ottawa.synthetic import make_benchmark

    pairs = make_benchmark(max(4, length // 10 + 2), "hard", seed)
    words: list[str] = []
    for p in pairs[::6]:
        words += p.src.split()
    src = words[:length]
    rng = np.random.default_rng(seed)
    mt = list(src)
    del mt[int(rng.integers(0, len(mt)))]
    mt.insert(int(rng.integers(0, len(mt))), "volcanic")
    return " ".join(src), " ".join(mt)


def run(quick: bool = True, lengths: tuple[int, ...] = LENGTHS) -> BenchReport:
    """Rows: per sentence length, the OT time of one aligned pair for each method (ratio to
    balanced OT), then encoding vs OT throughput on a batch of synthetic pairs."""
    from ottawa.aligner import ottawa_from_vectors
    from ottawa.baselines import ArgmaxAligner, BalancedOTAligner
    from ottawa.config import OttawaConfig
    from ottawa.encoder import WordEncoder
    from ottawa.synthetic import make_benchmark

    repeats = 3 if quick else 7
    encoder = WordEncoder.offline()
    pot, torch_cfg = OttawaConfig(solver="pot"), OttawaConfig(solver="torch")
    fast = OttawaConfig(solver="numpy")
    balanced, argmax = BalancedOTAligner(encoder), ArgmaxAligner(encoder)
    rows = []
    for length in lengths:
        src, mt = _sentence_of(length, seed=length)
        u, v = (w.vectors for w in encoder.encode([src, mt]))
        cases: dict[str, Any] = {
            "balanced-ot": lambda u=u, v=v: balanced.links(u, v),
            "ottawa (pot, 2 plans)": lambda u=u, v=v: ottawa_from_vectors(u, v, pot),
            "ottawa (numpy, 2 plans)": lambda u=u, v=v: ottawa_from_vectors(u, v, fast),
            "ottawa (torch, 2 plans)": lambda u=u, v=v: ottawa_from_vectors(u, v, torch_cfg),
            "argmax": lambda u=u, v=v: argmax.links(u, v),
        }
        rows += compare(
            cases, baseline="balanced-ot", params={"words": length}, warmup=1, repeats=repeats
        )

    pairs = make_benchmark(8 if quick else 32, "hard", 123)
    srcs, mts = [p.src for p in pairs], [p.mt for p in pairs]

    def encode() -> None:
        encoder._cache.clear()
        encoder.encode(srcs + mts)

    enc = encoder.encode(srcs + mts)
    vecs = list(zip(enc[: len(srcs)], enc[len(srcs) :], strict=True))
    through = compare(
        {
            "encode (MiniLM, batch)": encode,
            "ottawa OT (pot)": lambda: [
                ottawa_from_vectors(a.vectors, b.vectors, pot) for a, b in vecs
            ],
            "balanced-ot OT": lambda: [balanced.links(a.vectors, b.vectors) for a, b in vecs],
        },
        baseline="encode (MiniLM, batch)",
        params={"pairs": len(pairs)},
        warmup=1,
        repeats=repeats,
    )
    rows += through
    pps = {r.name: len(pairs) / r.median_s for r in through}
    notes = [
        "Length rows: ratio = time of one aligned pair / balanced OT (ot.sinkhorn, same reg 0.05, "
        "one plan); OTTAWA solves two one-side constrained plans (MT->src+null, src->MT+null).",
        "Throughput rows: ratio to encoding the same pairs (cache cleared each call).",
        "pairs/s: " + ", ".join(f"{k} {v:.1f}" for k, v in pps.items()),
    ]
    return BenchReport(
        "OTTAWA alignment time vs balanced OT and argmax", rows, baseline="balanced-ot", notes=notes
    )
