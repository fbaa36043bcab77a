"""Diagnostics the paper reports: attention mass on special / punctuation tokens, attention
entropy, negative weights (Appendix C.3) and rank collapse across layers (Table 5)."""

from __future__ import annotations

import torch

__all__ = ["attention_stats", "rank_exceeds", "representation_rank"]


@torch.no_grad()
def attention_stats(
    model, input_ids: torch.Tensor, special_mask: torch.Tensor, punct_mask: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Per layer and head, ``(L, H)`` tensors averaged over the batch and query rows ``t >= 1``:

    - ``weight_on_bos``: the signed attention weight on position 0 ([BOS]);
    - ``negative_bos``: 1.0 where that mean weight is negative (Cog/Diff can; Integral cannot);
    - ``mass_on_noise``: share of ``|w|`` on special + punctuation keys, ``sum |w| / sum |w|``;
    - ``entropy``: row entropy of ``|w| / sum |w|`` (nats);
    - ``min_weight``: the most negative weight seen.

    ``input_ids (B, T)``; ``special_mask``, ``punct_mask (B, T)`` bool over key positions.
    """
    out = model(input_ids, output_attentions=True)
    noise = (special_mask | punct_mask).to(torch.float32)[:, None, None, :]
    stats: dict[str, list] = {
        k: [] for k in ("weight_on_bos", "mass_on_noise", "entropy", "min_weight")
    }
    for w in out["attentions"]:
        w = w[:, :, 1:, :].float()
        a = w.abs()
        p = a / a.sum(-1, keepdim=True).clamp_min(1e-30)
        ent = -(p * p.clamp_min(1e-30).log()).sum(-1)
        stats["weight_on_bos"].append(w[..., 0].mean(dim=(0, 2)))
        stats["mass_on_noise"].append((p * noise).sum(-1).mean(dim=(0, 2)))
        stats["entropy"].append(ent.mean(dim=(0, 2)))
        stats["min_weight"].append(w.amin(dim=(0, 2, 3)))
    heads = max(s.numel() for s in stats["entropy"])

    def pad(xs):  # Diff layers have half the heads: pad with NaN to one (L, H) table
        return torch.stack(
            [torch.cat([x, x.new_full((heads - x.numel(),), float("nan"))]) for x in xs]
        )

    result = {k: pad(v) for k, v in stats.items()}
    result["negative_bos"] = (
        (result["weight_on_bos"] < 0)
        .float()
        .masked_fill(result["weight_on_bos"].isnan(), float("nan"))
    )
    return result


def representation_rank(hidden: torch.Tensor, rtol: float = 1e-3) -> torch.Tensor:
    """Numerical rank of each sample's ``(T, d)`` matrix: singular values ``> rtol * s_max``.
    ``hidden (B, T, d)`` -> ``(B,)`` long."""
    s = torch.linalg.svdvals(hidden.double())
    return (s > rtol * s[:, :1]).sum(-1)


@torch.no_grad()
def layer_ranks(model, input_ids: torch.Tensor, rtol: float = 1e-3) -> torch.Tensor:
    """``(L, B)`` ranks of every layer's output."""
    hidden = model(input_ids, output_hidden_states=True)["hidden_states"][1:]
    return torch.stack([representation_rank(h, rtol) for h in hidden])


def rank_exceeds(ranks: torch.Tensor, baseline: torch.Tensor, last: int = 3) -> list[float]:
    """Table 5's statistic: % of samples whose rank exceeds the baseline's, for the last,
    second-last, ... layers. ``ranks``, ``baseline``: ``(L, B)``."""
    return [100.0 * (ranks[-i] > baseline[-i]).double().mean().item() for i in range(1, last + 1)]
