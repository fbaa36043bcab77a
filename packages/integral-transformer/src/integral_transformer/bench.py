"""Integral / vanilla attention time over sequence length (docs/design.md, section 8).

Every case includes its rotary step on raw q/k (tables built once) and one attention call,
forward only, causal: ``vanilla`` (head RoPE + SDPA) is the baseline; ``integral`` (per-signal
RoPE + ONE SDPA call with scale 1/(S sqrt(d_h))); ``diff`` (two SDPA calls on half-heads, the
official layout); ``cog`` (explicit signed weights, no fused kernel: eager); ``integral_prob``
(S softmaxes). Eager cases are skipped above ``EAGER_MAX_T`` (their T x T maps).
"""

from __future__ import annotations

__all__ = ["run"]

EAGER_MAX_T = 2048


def _cases(t: int, batch: int, heads: int, head_dim: int, num_signals: int, device: str, dtype):
    import torch

    from integral_transformer.functional import (
        apply_rope,
        apply_signal_rope,
        cog_attention,
        integral_attention,
        rope_cos_sin,
        signal_rope,
        vanilla_attention,
    )

    g = torch.Generator(device="cpu").manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=g).to(device=device, dtype=dtype)

    q, k, v = (rand(batch, heads, t, head_dim) for _ in range(3))
    pos = torch.arange(t, device=device)
    hcs = tuple(x.expand(batch, -1, -1) for x in rope_cos_sin(pos, head_dim, dtype=dtype))
    scs = tuple(
        x.expand(batch, -1, -1) for x in signal_rope(pos, head_dim, num_signals, dtype=dtype)
    )
    dh = heads // 2
    dcs = tuple(x.expand(batch, -1, -1) for x in rope_cos_sin(pos, head_dim, dtype=dtype))
    dq, dk = rand(batch, 2 * dh, t, head_dim), rand(batch, 2 * dh, t, head_dim)
    dv = rand(batch, dh, t, 2 * head_dim)

    def diff():
        qq, kk = apply_rope(dq, *dcs), apply_rope(dk, *dcs)
        a = vanilla_attention(qq[:, 0::2], kk[:, 0::2], dv)
        return a - 0.5 * vanilla_attention(qq[:, 1::2], kk[:, 1::2], dv)

    cases = {
        "vanilla": lambda: vanilla_attention(q, k, v, hcs),
        "integral": lambda: integral_attention(q, k, v, num_signals, scs),
        "diff": diff,
    }
    if t <= EAGER_MAX_T:
        cases["cog"] = lambda: cog_attention(apply_rope(q, *hcs), apply_rope(k, *hcs), v)
        cases["integral_prob"] = lambda: integral_attention(
            apply_signal_rope(q, *scs, num_signals),
            apply_signal_rope(k, *scs, num_signals),
            v,
            num_signals,
            None,
            signal_space="prob",
        )
    return cases


def run(quick: bool = True, device: str | None = None):
    """Time every case over the length axis; ratios to ``vanilla`` measured in the same run.

    Quick: T in (256, 512, 1024), B=1, H=8, head_dim 64, S=4, float32 CPU. Full: T in
    256..8192 (bf16 on CUDA when available)."""
    import torch
    from papershelf.bench import BenchReport, compare

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    lengths = (256, 512, 1024) if quick else (256, 512, 1024, 2048, 4096, 8192)
    heads, head_dim, num_signals, batch = 8, 64, 4, 1 if device == "cpu" else 4
    rows = []
    with torch.no_grad():
        for t in lengths:
            cases = _cases(t, batch, heads, head_dim, num_signals, device, dtype)
            repeats = 5 if quick else (7 if t <= 2048 else 3)
            rows += compare(
                cases,
                "vanilla",
                params={"T": t, "B": batch, "H": heads, "head_dim": head_dim, "S": num_signals},
                warmup=1,
                repeats=repeats,
                device=device,
                round_robin=True,
            )
    return BenchReport(
        "Integral attention / vanilla SDPA (forward, causal, incl. RoPE)",
        rows,
        baseline="vanilla",
        notes=[
            f"device {device}, dtype {str(dtype).removeprefix('torch.')}; target integral/vanilla <= 1.1",
            f"cog and integral_prob (eager T x T maps) only up to T={EAGER_MAX_T}",
        ],
    )
