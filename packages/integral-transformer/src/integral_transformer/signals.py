"""The §3.3 experiment: averaging noisy logit signals vs averaging their softmaxes.

Clean logits ``z ~ N(0, I_n)``; signals ``z^s = z + eps^s``, ``eps^s ~ N(0, sigma^2 I)``.
Estimates: ``softmax(mean_s z^s)`` (logit space, Integral) and ``mean_s softmax(z^s)``
(probability space). Measured against ``softmax(z)``: KL(clean || estimate), argmax
agreement, entropy.
"""

from __future__ import annotations

import torch

__all__ = ["signal_average_stats"]


def signal_average_stats(
    sigmas=(0.5, 1.0, 2.0),
    signals=(1, 2, 4, 8, 32),
    draws: int = 10_000,
    dim: int = 64,
    seed: int = 0,
) -> list[dict[str, float]]:
    """One row per ``(sigma, S)``: ``kl_logit``, ``kl_prob``, ``agree_logit``, ``agree_prob``,
    ``entropy_logit``, ``entropy_prob``, ``entropy_clean`` (means over ``draws``)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(draws, dim, generator=g, dtype=torch.float32)
    logp = z.log_softmax(-1)
    p = logp.exp()
    clean_ent = -(p * logp).sum(-1).mean().item()
    rows = []
    for sigma in sigmas:
        for s in signals:
            zs = z[:, None, :] + sigma * torch.randn(
                draws, s, dim, generator=g, dtype=torch.float32
            )
            log_q_logit = zs.mean(1).log_softmax(-1)
            q_prob = zs.softmax(-1).mean(1)
            log_q_prob = q_prob.log()
            row = {"sigma": sigma, "S": s, "entropy_clean": clean_ent}
            for name, lq in (("logit", log_q_logit), ("prob", log_q_prob)):
                row[f"kl_{name}"] = (p * (logp - lq)).sum(-1).mean().item()
                row[f"agree_{name}"] = (lq.argmax(-1) == z.argmax(-1)).double().mean().item()
                row[f"entropy_{name}"] = -(lq.exp() * lq).sum(-1).mean().item()
            rows.append(row)
    return rows
