"""Pure tensor ops of ReGLA: gates, feature maps and the three forms of gated linear attention.

Layout follows flash-linear-attention: q, k and log gates are ``(B, T, H, K)``, v is
``(B, T, H, V)``, the state is ``(B, H, K, V)``. The recurrence (spec (d), (e)) is

    S_t = diag(exp(a_t)) S_{t-1} + k_t v_t^T,      o_t = scale * S_t^T q_t,

with a_t = log F_t <= 0 the log forget gate on the key axis. ``gla_recurrent``,
``gla_parallel`` and ``gla_chunk`` compute the same function (tested in float64 against
``regla.naive``); computation runs in float32 at least, in float64 for float64 inputs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from papershelf.errors import UserError

__all__ = [
    "elu1",
    "gla_chunk",
    "gla_parallel",
    "gla_recurrent",
    "gla_step",
    "refine_gate",
    "safe_exp",
    "sigmoid_gate",
]

LOG2 = math.log(2.0)
# largest in-sub-chunk log decay the matmul factorisation of a diagonal block accepts
_FACTOR_LIMIT = {torch.float32: 30.0, torch.float64: 300.0}


# ----------------------------------------------------------------------------- gates
def refine_gate(a_g: torch.Tensor, a_r: torch.Tensor) -> torch.Tensor:
    """Log of the refining gate (Gu et al. 2020; ReGLA section 3(c)), computed in log space.

    F = (1 - r) g^2 + r (1 - (1 - g)^2) = g (g + 2 r (1 - g)), with g = sigmoid(a_g),
    r = sigmoid(a_r); returns log F = logsigmoid(a_g) + logaddexp(logsigmoid(a_g),
    log 2 + logsigmoid(a_r) + logsigmoid(-a_g)), finite for any finite pre-activations.

    Args:
        a_g, a_r: gate and refine pre-activations, same shape (any).

    Returns:
        log F, same shape, <= 0.
    """
    log_g = F.logsigmoid(a_g)
    inner = torch.logaddexp(log_g, LOG2 + F.logsigmoid(a_r) + F.logsigmoid(-a_g))
    return (log_g + inner).clamp(max=0.0)


def sigmoid_gate(a_g: torch.Tensor, normalizer: float = 1.0) -> torch.Tensor:
    """GLA's gate in log space: log F = logsigmoid(a_g) / tau (tau = ``normalizer``). Same shape."""
    return F.logsigmoid(a_g) / normalizer


# ----------------------------------------------------------------------------- feature maps
def safe_exp(
    x: torch.Tensor,
    axis: str = "feature",
    running_max: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The bounded feature map phi(x) = exp(x - max) in (0, 1] (ReGLA section 3(a)).

    Args:
        x: logits ``(B, T, H, K)`` (per head, after the head reshape: fla#606).
        axis: ``"feature"``: the max over K per token (queries, and keys with
            ``key_max="token"``); ``"sequence"``: one max over K and all valid positions per
            (batch, head) (keys).
        running_max: ``(B, 1, H, 1)``: the max of the tokens seen before (streaming); the
            result's max is ``max(running_max, this call's max)``.
        mask: ``(B, T)`` bool, True where the token is real; padding is left out of the max.

    Returns:
        ``(phi, m)``: phi like ``x``; m ``(B, T, H, 1)`` for ``feature``, ``(B, 1, H, 1)``
        for ``sequence``. The max is a detached shift (as in a stable softmax).
    """
    if axis == "feature":
        m = x.detach().amax(dim=-1, keepdim=True)
    elif axis == "sequence":
        xd = x.detach()
        if mask is not None:
            xd = xd.masked_fill(~mask[:, :, None, None], float("-inf"))
        m = xd.amax(dim=(1, 3), keepdim=True)
        if running_max is not None:
            m = torch.maximum(m, running_max.to(m.dtype))
        m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    else:
        raise UserError(f"axis: must be 'feature' or 'sequence', got {axis!r}")
    return torch.exp(x - m), m


def elu1(x: torch.Tensor) -> torch.Tensor:
    """ELU + 1 feature map (Katharopoulos et al. 2020): positive, unbounded above. Same shape."""
    return F.elu(x) + 1.0


# ----------------------------------------------------------------------------- checks
def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _check(q, k, v, log_f, initial_state) -> None:
    if q.dim() != 4 or k.shape != q.shape or log_f.shape != q.shape:
        raise UserError(
            "q, k, log_f: must share the shape (B, T, H, K), got "
            f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(log_f.shape)}"
        )
    if v.dim() != 4 or v.shape[:3] != q.shape[:3]:
        raise UserError(
            f"v: must be (B, T, H, V) with (B, T, H) = {tuple(q.shape[:3])}, got {tuple(v.shape)}"
        )
    if log_f.numel() and not torch.jit.is_tracing():
        bad = torch.isnan(log_f) | (log_f > 0)
        if bool(bad.any()):
            raise UserError("log_f: must be <= 0 and not NaN (pass log gates, e.g. logsigmoid)")
    if initial_state is not None:
        want = (q.shape[0], q.shape[2], q.shape[3], v.shape[3])
        if tuple(initial_state.shape) != want:
            raise UserError(
                f"initial_state: must be (B, H, K, V) = {want}, got {tuple(initial_state.shape)}"
            )
        if initial_state.dtype not in (torch.float32, _compute_dtype(q)):
            raise UserError(f"initial_state: must be float32, got {initial_state.dtype}")


def _bhtk(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return x.transpose(1, 2).to(dtype)


# ----------------------------------------------------------------------------- forms
def gla_step(
    q_t: torch.Tensor,
    k_t: torch.Tensor,
    v_t: torch.Tensor,
    log_f_t: torch.Tensor,
    state: torch.Tensor,
    scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One decoding step of eq. (e1): S = diag(e^a) S + k v^T, o = scale S^T q.

    Args:
        q_t, k_t, log_f_t: ``(B, H, K)``; v_t: ``(B, H, V)``; state: ``(B, H, K, V)``.

    Returns:
        ``(o_t (B, H, V) in q's dtype, new state (B, H, K, V) in the state's dtype)``.
    """
    dt = state.dtype
    s = (
        torch.exp(log_f_t.to(dt))[..., None] * state
        + k_t.to(dt)[..., None] * v_t.to(dt)[..., None, :]
    )
    o = torch.einsum("bhk,bhkv->bhv", q_t.to(dt), s) * scale
    return o.to(q_t.dtype), s


def gla_recurrent(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    log_f: torch.Tensor,
    scale: float = 1.0,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Recurrent form (spec (e)1): T sequential steps, O(T K V); what decoding uses.

    Args:
        q, k, log_f: ``(B, T, H, K)``; v: ``(B, T, H, V)``; log_f <= 0 (log forget gates).
        scale: multiplies the read-out.
        initial_state: ``(B, H, K, V)`` float32 (or float64 with float64 inputs), or None (zeros).

    Returns:
        ``(o (B, T, H, V) in q's dtype, final state (B, H, K, V) or None)``.
    """
    _check(q, k, v, log_f, initial_state)
    dt = _compute_dtype(q)
    B, T, H, K = q.shape
    V = v.shape[-1]
    qd, kd, vd, gd = (x.to(dt) for x in (q, k, v, log_f))
    s = (
        initial_state.to(dt)
        if initial_state is not None
        else torch.zeros(B, H, K, V, dtype=dt, device=q.device)
    )
    outs = []
    for t in range(T):
        s = torch.exp(gd[:, t])[..., None] * s + kd[:, t, :, :, None] * vd[:, t, :, None, :]
        outs.append(torch.einsum("bhk,bhkv->bhv", qd[:, t], s))
    o = (torch.stack(outs, dim=1) if outs else vd.new_zeros(B, 0, H, V)) * scale
    return o.to(q.dtype), (s if output_final_state else None)


def gla_parallel(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    log_f: torch.Tensor,
    scale: float = 1.0,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    block: int = 64,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Parallel (quadratic) form (spec (e)2): o_t = sum_{s<=t} (sum_c q_tc k_sc e^{B_tc - B_sc}) v_s.

    B is the cumulative log gate. Exact in log space (every exponent <= 0), computed over
    blocks of ``block`` queries, so memory is O(block T K) per (batch, head); cost O(T^2 K).
    Arguments and returns as :func:`gla_recurrent`.
    """
    _check(q, k, v, log_f, initial_state)
    dt = _compute_dtype(q)
    qd, kd, vd = (_bhtk(x, dt) for x in (q, k, v))
    cum = _bhtk(log_f, dt).cumsum(dim=2)  # (B, H, T, K)
    T = qd.shape[2]
    outs = []
    for t0 in range(0, T, block):
        t1 = min(T, t0 + block)
        diff = cum[:, :, t0:t1, None, :] - cum[:, :, None, :t1, :]  # (B,H,tb,t1,K)
        causal = torch.ones(t1 - t0, t1, dtype=torch.bool, device=q.device).tril(t0)
        diff = diff.masked_fill(~causal[:, :, None], float("-inf"))
        a = (qd[:, :, t0:t1, None, :] * kd[:, :, None, :t1, :] * torch.exp(diff)).sum(-1)
        o = a @ vd[:, :, :t1]
        if initial_state is not None:
            o = o + (qd[:, :, t0:t1] * torch.exp(cum[:, :, t0:t1])) @ initial_state.to(dt)
        outs.append(o)
    o = torch.cat(outs, dim=2) if outs else vd.clone()
    final = None
    if output_final_state:
        last = cum[:, :, -1:, :] if T else torch.zeros_like(cum[:, :, :1])
        final = (kd * torch.exp(last - cum)).transpose(-1, -2) @ vd
        if initial_state is not None:
            final = final + torch.exp(last[:, :, 0])[..., None] * initial_state.to(dt)
    return (o * scale).transpose(1, 2).to(q.dtype), final


def gla_chunk(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    log_f: torch.Tensor,
    scale: float = 1.0,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    chunk_size: int = 64,
    sub_chunk: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Chunkwise form (spec (e)3), with GLA's secondary chunking.

    Per chunk n of C tokens (local cumulative log gate b, b_C its last row):
    O_inter = (Q_n * e^b) S_{n-1}; O_intra = A V_n with A_ij = sum_c Q_ic K_jc e^{b_ic - b_jc}
    (j <= i); S_n = diag(e^{b_C}) S_{n-1} + (K_n * e^{b_C - b})^T V_n. A is built on
    sub-chunks of ``sub_chunk`` tokens: off-diagonal blocks by a matmul factorised at the
    start of the query sub-chunk (both factors <= 1), diagonal blocks exactly in log space,
    so gates near 0 never overflow. T need not be a multiple of C (zero padding with log
    gate 0 leaves the state unchanged). Cost O(T C K + T K V).

    Args: as :func:`gla_recurrent`, plus ``chunk_size`` C >= 1 and ``sub_chunk`` (default
    min(16, C); must divide C).
    """
    _check(q, k, v, log_f, initial_state)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise UserError(f"chunk_size: must be an integer >= 1, got {chunk_size!r}")
    s = sub_chunk or min(16, chunk_size)
    if s < 1 or chunk_size % s:
        raise UserError(f"sub_chunk: must divide chunk_size={chunk_size}, got {s}")
    dt = _compute_dtype(q)
    B, T, H, K = q.shape
    V = v.shape[-1]
    C = chunk_size
    pad = (-T) % C
    qd, kd, vd, gd = (_bhtk(x, dt) for x in (q, k, v, log_f))
    if pad:
        qd, kd, vd, gd = (F.pad(x, (0, 0, 0, pad)) for x in (qd, kd, vd, gd))
    N = (T + pad) // C
    qd, kd, gd = (x.reshape(B, H, N, C, K) for x in (qd, kd, gd))
    vd = vd.reshape(B, H, N, C, V)
    b = gd.cumsum(dim=3)  # (B, H, N, C, K), <= 0, decreasing

    # intra-chunk: secondary chunking on sub-chunks of s tokens; keys of earlier sub-chunks and
    # of the query's own sub-chunk in one matmul, factorised at the start of the sub-chunk
    tril = torch.ones(s, s, dtype=torch.bool, device=q.device).tril()
    limit = _FACTOR_LIMIT[dt]
    o_parts = []
    for i in range(C // s):
        lo, hi = i * s, (i + 1) * s
        qi, bi = qd[..., lo:hi, :], b[..., lo:hi, :]
        ref = b[..., lo - 1 : lo, :] if i else torch.zeros_like(b[..., :1, :])
        qf = qi * torch.exp(bi - ref)  # factors <= 1
        if float((ref - bi).detach().max()) <= limit:
            # e^{ref - b_j} <= e^limit inside the sub-chunk: safe to factorise the diagonal too
            kf = kd[..., :hi, :] * torch.exp(ref - b[..., :hi, :])
            a = qf @ kf.transpose(-1, -2)  # (B, H, N, s, hi)
            keep = torch.ones(s, hi, dtype=torch.bool, device=q.device).tril(lo)
            oi = a.masked_fill(~keep, 0.0) @ vd[..., :hi, :]
        else:
            # gates near 0: exact log-space diagonal block, factorised off-diagonal blocks
            ki, vi = kd[..., lo:hi, :], vd[..., lo:hi, :]
            diff = (bi[..., :, None, :] - bi[..., None, :, :]).masked_fill(
                ~tril[:, :, None], float("-inf")
            )
            oi = (qi[..., :, None, :] * ki[..., None, :, :] * torch.exp(diff)).sum(-1) @ vi
            if i:
                kf = kd[..., :lo, :] * torch.exp(ref - b[..., :lo, :])
                oi = oi + (qf @ kf.transpose(-1, -2)) @ vd[..., :lo, :]
        o_parts.append(oi)
    o = torch.cat(o_parts, dim=3)

    # inter-chunk: carry the state
    last = b[..., -1, :]  # (B, H, N, K)
    upd = (kd * torch.exp(last[..., None, :] - b)).transpose(-1, -2) @ vd  # (B,H,N,K,V)
    decay = torch.exp(last)[..., None]
    state = (
        initial_state.to(dt)
        if initial_state is not None
        else torch.zeros(B, H, K, V, dtype=dt, device=q.device)
    )
    if N:
        prev = []
        for n in range(N):
            prev.append(state)
            state = decay[:, :, n] * state + upd[:, :, n]
        if initial_state is None and N == 1:
            o_inter = 0.0
        else:
            o_inter = (qd * torch.exp(b)) @ torch.stack(prev, dim=2)
        o = o + o_inter
    o = (o * scale).reshape(B, H, N * C, V)[:, :, :T].transpose(1, 2)
    return o.to(q.dtype), (state if output_final_state else None)
