"""``ottawa bench``: is scoring encoder-bound? OTTAWA's OT time vs encoding time, and how the
batched solver's cost grows with sentence length and with the number of pairs.

Three tables:
1. throughput: 1,024 synthetic pairs of 8-40 words; MiniLM encoding (cache cleared) is the
   baseline; OTTAWA's OT (cost, adaptive null, both plans, scores) with the batched solver, and
   the per-pair reference solvers timed on a subset and scaled to 1,024 pairs. The batched
   plans are checked against POT's on the checked pairs (max abs difference in the notes).
2. growth over sentence length (8 pairs per point): batched OTTAWA vs a loop of balanced
   ``ot.sinkhorn``, fitted exponent of time vs length.
3. growth over pairs (16 words): batched OTTAWA, fitted exponent of time vs pairs.
Growth rows use synthetic word vectors (a shared direction plus noise, MT = source with one
word replaced and one inserted) so that thousands of pairs need no encoder.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from papershelf.bench import BenchReport, BenchRow, time_callable

LENGTHS_QUICK = (8, 16, 32, 64, 128)
LENGTHS_FULL = (8, 16, 32, 64, 128, 256)
PAIRS_QUICK = (1, 4, 16, 64, 256, 1024)
PAIRS_FULL = (1, 4, 16, 64, 256, 1024, 4096)


def length_pairs(n_pairs: int, seed: int, low: int = 8, high: int = 40) -> tuple[list, list]:
    """``n_pairs`` (source, MT) texts with sources of ``low``..``high`` words: template words from
    the synthetic benchmark, MT = one word deleted and one unrelated word inserted."""
    from ottawa.synthetic import CONTENT_INSERT, make_benchmark

    rng = np.random.default_rng(seed)
    pool = make_benchmark(max(8, n_pairs // 4), "easy", seed)[::6]
    srcs, mts = [], []
    for k in range(n_pairs):
        words: list[str] = []
        j = k
        length = int(rng.integers(low, high + 1))
        while len(words) < length:
            words += pool[j % len(pool)].src.split()
            j += 7
        src = words[:length]
        mt = list(src)
        del mt[int(rng.integers(0, len(mt)))]
        mt.insert(int(rng.integers(0, len(mt) + 1)), str(rng.choice(CONTENT_INSERT)))
        srcs.append(" ".join(src))
        mts.append(" ".join(mt))
    return srcs, mts


def synthetic_vectors(
    n_pairs: int, length: int, seed: int, dim: int = 384
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Word-vector pairs (u (length, dim), v (length, dim)) that look like contextual embeddings:
    a shared direction plus noise; v = u with one word replaced and one inserted, plus noise."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=dim)
    out = []
    for _ in range(n_pairs):
        u = common + 1.2 * rng.normal(size=(length, dim))
        v = u + 0.3 * rng.normal(size=u.shape)
        v[int(rng.integers(0, length))] = common + 1.2 * rng.normal(size=dim)
        at = int(rng.integers(0, length))
        v = np.insert(v, at, common + 1.2 * rng.normal(size=dim), axis=0)
        out.append((u, v))
    return out


def _fit_exponent(sizes: list[float], seconds: list[float]) -> float:
    """Slope of log(seconds) against log(size): ~1 linear, ~2 quadratic."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def run(quick: bool = True) -> BenchReport:
    """The three tables above (quick: 3 repeats of the OT timings, shorter growth axes)."""
    import ot

    from ottawa.aligner import ottawa_batch_from_vectors, ottawa_from_vectors
    from ottawa.baselines import BalancedOTAligner
    from ottawa.config import OttawaConfig
    from ottawa.encoder import WordEncoder

    repeats = 3 if quick else 5
    encoder = WordEncoder.offline()
    batched = OttawaConfig(solver="batched")
    rows: list[BenchRow] = []
    notes: list[str] = []

    # 1. throughput on 1,024 pairs of 8-40 words
    n_pairs = 1024
    srcs, mts = length_pairs(n_pairs, seed=0)

    def encode() -> list:
        encoder._cache.clear()
        return encoder.encode(srcs + mts)

    encoder.encode(["warm up the tokenizer and the model"])
    t_enc = time_callable(encode, warmup=0, repeats=1 if quick else 3).median
    enc = encoder.encode(srcs + mts)  # from the cache the timed call filled
    vecs = [(a.vectors, b.vectors) for a, b in zip(enc[:n_pairs], enc[n_pairs:], strict=True)]
    t_batch = time_callable(
        lambda: ottawa_batch_from_vectors(vecs, batched), warmup=1, repeats=repeats
    ).median
    n_sub = 64 if quick else 256
    sub = vecs[:n_sub]
    scale = n_pairs / n_sub
    per_pair: dict[str, float] = {}
    for solver in ("pot", "numpy"):
        cfg = OttawaConfig(solver=solver)
        t = time_callable(
            lambda cfg=cfg: [ottawa_from_vectors(u, v, cfg) for u, v in sub],
            warmup=0,
            repeats=1,
        ).median
        per_pair[solver] = t * scale
    balanced = BalancedOTAligner(encoder)
    t_bal = time_callable(
        lambda: [balanced.links(u, v) for u, v in vecs], warmup=0, repeats=1
    ).median
    for name, t in (
        ("encode (MiniLM)", t_enc),
        ("ottawa OT, batched", t_batch),
        (f"ottawa OT, per-pair pot (x{scale:g} of {n_sub})", per_pair["pot"]),
        (f"ottawa OT, per-pair numpy (x{scale:g} of {n_sub})", per_pair["numpy"]),
        ("balanced ot.sinkhorn, per pair", t_bal),
    ):
        rows.append(BenchRow(name, t, t / t_enc, params={"table": "throughput", "pairs": n_pairs}))
    # agreement with POT on the checked pairs, and the iteration counts
    out = ottawa_batch_from_vectors(vecs, batched)
    ref = [ottawa_from_vectors(u, v, OttawaConfig(solver="pot")) for u, v in sub]
    diff = max(
        max(
            np.abs(o["plan_fwd"] - r["plan_fwd"]).max(), np.abs(o["plan_rev"] - r["plan_rev"]).max()
        )
        for o, r in zip(out, ref, strict=False)
    )
    its = np.array([o["iterations"] for o in out]).ravel()
    conv = np.array([o["converged"] for o in out]).ravel()
    words = [len(s.split()) for s in srcs]
    notes += [
        f"Throughput: {n_pairs} pairs, source {min(words)}-{max(words)} words (mean "
        f"{np.mean(words):.1f}); ratio = time / encoding time (target for batched OT <= 0.3). "
        f"OT time includes cost matrices, adaptive null, both plans and scores.",
        f"Batched vs POT plans on {n_sub} pairs (both directions): max abs diff {diff:.2e}. "
        f"Iterations per plan: median {np.median(its):.0f}, 90% {np.percentile(its, 90):.0f}, "
        f"max {its.max()}; converged {conv.mean():.1%} (cap {batched.num_iter}).",
        f"pairs/s: encode {n_pairs / t_enc:.0f}, batched OT {n_pairs / t_batch:.0f}, "
        f"per-pair POT {n_pairs / per_pair['pot']:.0f}",
    ]

    # 2. growth over sentence length (8 pairs per point)
    lengths = LENGTHS_QUICK if quick else LENGTHS_FULL
    t_len, it_len = [], []
    for length in lengths:
        pv = synthetic_vectors(8, length, seed=length)
        long = quick and length >= 64  # seconds per call there: one timed call is enough
        t = time_callable(
            lambda pv=pv: ottawa_batch_from_vectors(pv, batched),
            warmup=0 if long else 1,
            repeats=1 if long else repeats,
        ).median
        it_len.append(
            float(np.median([o["iterations"] for o in ottawa_batch_from_vectors(pv, batched)]))
        )
        costs = [1 - _cos(u, v) for u, v in pv]

        def sinkhorn(costs: Any = costs) -> None:
            for C in costs:
                n, m = C.shape
                ot.sinkhorn(np.full(n, 1 / n), np.full(m, 1 / m), C / 2, 0.05, numItermax=2000)

        tb = time_callable(sinkhorn, warmup=0 if long else 1, repeats=1 if long else repeats).median
        t_len.append(t)
        rows.append(
            BenchRow(
                "ottawa batched (8 pairs)", t, t / tb, params={"table": "length", "words": length}
            )
        )
        rows.append(
            BenchRow(
                "balanced ot.sinkhorn loop", tb, 1.0, params={"table": "length", "words": length}
            )
        )
    notes.append(
        f"Length table: ratio = batched OTTAWA (2 plans per pair) / balanced ot.sinkhorn (1 plan per "
        f"pair, same reg); time ~ length^{_fit_exponent(list(lengths[1:]), t_len[1:]):.2f} "
        f"(fit over {lengths[1]}-{lengths[-1]} words; n*m entries grow as length^2, the rest "
        f"is iterations: median per plan "
        + ", ".join(f"{w} words {i:.0f}" for w, i in zip(lengths, it_len, strict=True))
        + f"; cap {batched.num_iter})."
    )

    # 3. growth over the number of pairs (16 words)
    counts = PAIRS_QUICK if quick else PAIRS_FULL
    t_cnt = []
    for count in counts:
        pv = synthetic_vectors(count, 16, seed=count)
        t = time_callable(
            lambda pv=pv: ottawa_batch_from_vectors(pv, batched), warmup=1, repeats=repeats
        ).median
        t_cnt.append(t)
        rows.append(
            BenchRow(
                "ottawa batched (16 words)",
                t,
                t / t_cnt[0],
                params={"table": "pairs", "pairs": count},
            )
        )
    big = [k for k, c in enumerate(counts) if c >= 16]
    notes.append(
        f"Pairs table: ratio = time / time of 1 pair; time ~ pairs^"
        f"{_fit_exponent([counts[k] for k in big], [t_cnt[k] for k in big]):.2f} "
        f"(fit over {counts[big[0]]}-{counts[-1]} pairs; below that the per-iteration overhead dominates)."
    )
    notes.append(f"Finished at {time.strftime('%Y-%m-%d %H:%M')}; device cpu.")
    return BenchReport(
        "OTTAWA optimal transport vs encoding, and its growth",
        rows,
        baseline="encode (MiniLM) for throughput; balanced ot.sinkhorn for length; 1 pair for pairs",
        notes=notes,
    )


def _cos(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    un = u / np.linalg.norm(u, axis=1, keepdims=True)
    vn = v / np.linalg.norm(v, axis=1, keepdims=True)
    return un @ vn.T
