"""Float64 references (test oracles only): explicit loops with the fast ops' signatures.

``naive_<op>`` takes the same parameters, in the same order, as ``regla.functional.<op>``,
so a test can call both with one set of arguments. They are slow on purpose: one step or
one query at a time, every exponent written out.
"""

from __future__ import annotations

import torch

__all__ = [
    "naive_gla_chunk",
    "naive_gla_parallel",
    "naive_gla_recurrent",
    "naive_refine_gate",
]


def naive_refine_gate(a_g: torch.Tensor, a_r: torch.Tensor) -> torch.Tensor:
    """log F from the direct form F = (1 - r) g^2 + r (1 - (1 - g)^2) (Gu et al. 2020), float64."""
    g = torch.sigmoid(a_g.double())
    r = torch.sigmoid(a_r.double())
    return torch.log((1 - r) * g**2 + r * (1 - (1 - g) ** 2)).to(a_g.dtype)


def _f64(*xs):
    return [None if x is None else x.double() for x in xs]


def naive_gla_recurrent(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    log_f: torch.Tensor,
    scale: float = 1.0,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """S_t = diag(exp(a_t)) S_{t-1} + k_t v_t^T, o_t = scale S_t^T q_t, one (batch, head, t) at a time.

    Shapes as ``functional.gla_recurrent``: q, k, log_f ``(B, T, H, K)``, v ``(B, T, H, V)``.
    """
    q, k, v, log_f, s0 = _f64(q, k, v, log_f, initial_state)
    B, T, H, K = q.shape
    V = v.shape[-1]
    o = torch.zeros(B, T, H, V, dtype=torch.float64)
    final = torch.zeros(B, H, K, V, dtype=torch.float64)
    for b in range(B):
        for h in range(H):
            S = s0[b, h].clone() if s0 is not None else torch.zeros(K, V, dtype=torch.float64)
            for t in range(T):
                S = torch.diag(torch.exp(log_f[b, t, h])) @ S + torch.outer(k[b, t, h], v[b, t, h])
                o[b, t, h] = scale * (S.T @ q[b, t, h])
            final[b, h] = S
    return o, (final if output_final_state else None)


def naive_gla_parallel(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    log_f: torch.Tensor,
    scale: float = 1.0,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    block: int = 64,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """o_t = scale (sum_{s<=t} (sum_c q_tc k_sc e^{B_tc - B_sc}) v_s + (q_t * e^{B_t}) S_0), one query at a time.

    ``block`` is accepted for the signature and unused.
    """
    q, k, v, log_f, s0 = _f64(q, k, v, log_f, initial_state)
    B, T, H, _K = q.shape
    cum = log_f.cumsum(dim=1)
    o = torch.zeros(B, T, H, v.shape[-1], dtype=torch.float64)
    for t in range(T):
        w = torch.exp(cum[:, t : t + 1] - cum[:, : t + 1])  # (B, t+1, H, K)
        scores = (q[:, t : t + 1] * k[:, : t + 1] * w).sum(-1)  # (B, t+1, H)
        o[:, t] = (scores[..., None] * v[:, : t + 1]).sum(1)
        if s0 is not None:
            o[:, t] += torch.einsum("bhk,bhkv->bhv", q[:, t] * torch.exp(cum[:, t]), s0)
    final = None
    if output_final_state:
        last = cum[:, -1:] if T else torch.zeros_like(cum[:, :1])
        final = torch.einsum("bthk,bthv->bhkv", k * torch.exp(last - cum), v)
        if s0 is not None:
            final = final + torch.exp(last[:, 0])[..., None] * s0
    return scale * o, final


def naive_gla_chunk(
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
    """The exact 4-D masked chunk form: per chunk, A_ij = sum_c Q_ic K_jc e^{b_ic - b_jc} over the
    whole chunk in log space, state carried chunk to chunk. ``sub_chunk`` is unused."""
    q, k, v, log_f, s0 = _f64(q, k, v, log_f, initial_state)
    B, T, H, K = q.shape
    V = v.shape[-1]
    S = s0.clone() if s0 is not None else torch.zeros(B, H, K, V, dtype=torch.float64)
    o = torch.zeros(B, T, H, V, dtype=torch.float64)
    for c0 in range(0, T, chunk_size):
        c1 = min(T, c0 + chunk_size)
        qc, kc, vc = q[:, c0:c1], k[:, c0:c1], v[:, c0:c1]
        b = log_f[:, c0:c1].cumsum(dim=1)  # (B, C, H, K)
        n = c1 - c0
        diff = b[:, :, None] - b[:, None, :]  # (B, Ci, Cj, H, K)
        mask = torch.ones(n, n, dtype=torch.bool).tril()[None, :, :, None, None]
        diff = torch.where(mask, diff, torch.full_like(diff, float("-inf")))
        a = (qc[:, :, None] * kc[:, None, :] * torch.exp(diff)).sum(-1)  # (B, Ci, Cj, H)
        o[:, c0:c1] = torch.einsum("bijh,bjhv->bihv", a, vc)
        o[:, c0:c1] += torch.einsum("bihk,bhkv->bihv", qc * torch.exp(b), S)
        last = b[:, -1]
        S = torch.exp(last)[..., None] * S + torch.einsum(
            "bjhk,bjhv->bhkv", kc * torch.exp(last[:, None] - b), vc
        )
    return scale * o, (S if output_final_state else None)
