"""Cost of the three ReGLA forms vs causal softmax attention (SDPA), over the sequence length.

B = 1, H = 4, d_k = d_v = 64, float32, CPU. Per length: forward of SDPA (the baseline),
chunkwise (C = 64), recurrent and parallel (T <= 2048: quadratic memory) forms, and
forward+backward of SDPA, chunkwise and recurrent; ratios to SDPA's forward (or
forward+backward) time in the same run, with peak memory.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from papershelf.bench import BenchReport, BenchRow, compare

from regla.functional import gla_chunk, gla_parallel, gla_recurrent

QUICK_LENGTHS = (256, 1024, 4096)
FULL_LENGTHS = (256, 512, 1024, 2048, 4096, 8192)
PARALLEL_MAX = {True: 256, False: 2048}  # quick / full: the quadratic form is slow
RECURRENT_BWD_MAX = {True: 1024, False: 4096}


def _inputs(T: int, grad: bool):
    g = torch.Generator().manual_seed(T)
    B, H, K = 1, 4, 64
    q, k, v = (torch.randn(B, T, H, K, generator=g) * 0.5 for _ in range(3))
    log_f = F.logsigmoid(torch.randn(B, T, H, K, generator=g) + 3.0)
    return [x.requires_grad_(grad) for x in (q, k, v, log_f)]


def _sdpa(q, k, v, _):
    return F.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
    )


def _case(fn, T: int, backward: bool):
    args = _inputs(T, backward)

    def call():
        out = fn(*args)
        out = out[0] if isinstance(out, tuple) else out
        if backward:
            out.sum().backward()
            for a in args:
                a.grad = None

    return call


def _fla_case(T: int):
    """fla's pure-torch ``naive_recurrent_gla`` as a peer row, when fla is installed and runs here."""
    import importlib.util

    if importlib.util.find_spec("fla") is None:
        return (
            None,
            "flash-linear-attention not installed (optional group bench-regla not declared)",
        )
    try:
        from fla.ops.gla.naive import naive_recurrent_gla

        args = _inputs(min(T, 8), False)
        naive_recurrent_gla(*args)
    except Exception as exc:  # any import/Triton failure: report it, keep the bench going
        return None, f"fla naive_recurrent_gla did not run on CPU: {type(exc).__name__}"
    return _case(naive_recurrent_gla, T, False), ""


def run(quick: bool = True) -> BenchReport:
    lengths = QUICK_LENGTHS if quick else FULL_LENGTHS
    repeats, warmup = (3, 1) if quick else (5, 1)
    rows: list[BenchRow] = []
    fla_note = ""
    for T in lengths:
        fwd = {"sdpa fwd": _case(_sdpa, T, False), "chunk fwd": _case(gla_chunk, T, False)}
        fwd["recurrent fwd"] = _case(gla_recurrent, T, False)
        fla, fla_note = _fla_case(T)
        if fla is not None and RECURRENT_BWD_MAX[quick] >= T:
            fwd["fla naive_recurrent_gla fwd"] = fla
        if PARALLEL_MAX[quick] >= T:
            fwd["parallel fwd"] = _case(gla_parallel, T, False)
        rows += compare(
            fwd,
            "sdpa fwd",
            params={"T": T},
            warmup=warmup,
            repeats=repeats,
            memory=True,
            round_robin=True,
        )
        bwd = {"sdpa fwd+bwd": _case(_sdpa, T, True), "chunk fwd+bwd": _case(gla_chunk, T, True)}
        if RECURRENT_BWD_MAX[quick] >= T:
            bwd["recurrent fwd+bwd"] = _case(gla_recurrent, T, True)
        rows += compare(
            bwd,
            "sdpa fwd+bwd",
            params={"T": T},
            warmup=warmup,
            repeats=repeats,
            memory=True,
            round_robin=True,
        )
    notes = [
        "ratio: median time / SDPA's (forward rows vs SDPA forward, fwd+bwd rows vs SDPA fwd+bwd), same run",
    ]
    notes.append(
        "peak MiB: resident-set growth sampled every ms (allocator reuse hides small tensors)"
    )
    if fla_note:
        notes.append(fla_note)
    chunk = {r.params["T"]: r.median_s for r in rows if r.name == "chunk fwd+bwd"}
    rec = {r.params["T"]: r.median_s for r in rows if r.name == "recurrent fwd+bwd"}
    for T in sorted(set(chunk) & set(rec)):
        notes.append(f"T={T}: chunk fwd+bwd / recurrent fwd+bwd = {chunk[T] / rec[T]:.3g}")
    cross = [r.params["T"] for r in rows if r.name == "chunk fwd" and r.ratio < 1.0]
    notes.append(
        f"chunk fwd faster than SDPA from T={min(cross)}"
        if cross
        else "chunk fwd never beat SDPA here"
    )
    return BenchReport(
        "ReGLA forms vs causal SDPA (B=1, H=4, d=64, float32)", rows, baseline="sdpa", notes=notes
    )
