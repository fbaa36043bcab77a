"""Temporal knowledge-graph models: scores of quadruples (s, r, o, t).

- ``SimplE`` (static; Kazemi & Poole 2018): ``½(⟨h_s, r, t_o⟩ + ⟨h_o, r⁻¹, t_s⟩)``.
- ``DESimplE`` (Goel, Kazemi, Brubaker, Poupart, AAAI 2020): diachronic embeddings
  ``z_v(t)[k] = a_v[k] sin(w_v[k] t + b_v[k])`` for ``k < γd``, else ``a_v[k]``, for both the head
  and tail embeddings, then the SimplE score. γ = 0 is SimplE.
- ``TTransE`` (Leblay & Chekol 2018): ``-‖e_s + r + τ_t - e_o‖₁``.

Times are integers ``0..num_timestamps-1``; DE-SimplE uses ``t / num_timestamps``.
Every model has ``score(s, r, o, t) -> (B,)``, ``score_all_tails(s, r, t) -> (B, N_ent)`` and
``score_all_heads(r, o, t) -> (B, N_ent)``.
"""

from __future__ import annotations

import torch
from papershelf.errors import UserError
from torch import nn

__all__ = ["DESimplE", "SimplE", "TTransE"]


class DESimplE(nn.Module):
    """Diachronic SimplE; ``gamma`` = temporal fraction of the ``dim`` features."""

    def __init__(
        self,
        num_entities: int,
        num_relations: int,
        num_timestamps: int,
        dim: int = 32,
        gamma: float = 0.5,
    ):
        super().__init__()
        if not 0 <= gamma <= 1:
            raise UserError(f"gamma: must be in [0, 1], got {gamma}")
        self.num_entities, self.num_timestamps, self.dim = num_entities, num_timestamps, dim
        self.k_time = round(gamma * dim)
        std = dim**-0.5
        for side in ("head", "tail"):
            setattr(self, f"a_{side}", nn.Parameter(torch.randn(num_entities, dim) * std))
            setattr(self, f"w_{side}", nn.Parameter(torch.randn(num_entities, self.k_time)))
            setattr(self, f"b_{side}", nn.Parameter(torch.randn(num_entities, self.k_time)))
        self.rel = nn.Parameter(torch.randn(num_relations, dim) * std)
        self.rel_inv = nn.Parameter(torch.randn(num_relations, dim) * std)

    def entity(self, side: str, e: torch.Tensor | None, t: torch.Tensor) -> torch.Tensor:
        """Diachronic embeddings of entities ``e (B,)`` (or all, shape (N, d)) at ``t (B,)``:
        ``(B, d)``, or ``(B, N, d)`` when ``e`` is None."""
        a, w, b = (getattr(self, f"{p}_{side}") for p in ("a", "w", "b"))
        if e is not None:
            a, w, b = a[e], w[e], b[e]
        tt = (t.float() / self.num_timestamps).view(-1, 1)
        if e is None:
            a, w, b = a.unsqueeze(0), w.unsqueeze(0), b.unsqueeze(0)
            tt = tt.unsqueeze(-1)
        k = self.k_time
        temporal = a[..., :k] * torch.sin(w * tt + b)
        return torch.cat(
            [temporal, a[..., k:].expand(*temporal.shape[:-1], a.size(-1) - k)], dim=-1
        )

    def score(self, s, r, o, t):
        one = (self.entity("head", s, t) * self.rel[r] * self.entity("tail", o, t)).sum(-1)
        two = (self.entity("head", o, t) * self.rel_inv[r] * self.entity("tail", s, t)).sum(-1)
        return (one + two) / 2

    def score_all_tails(self, s, r, t):
        hs, ts = self.entity("head", s, t), self.entity("tail", s, t)
        h_all, t_all = self.entity("head", None, t), self.entity("tail", None, t)  # (B, N, d)
        one = ((hs * self.rel[r]).unsqueeze(1) * t_all).sum(-1)
        two = ((ts * self.rel_inv[r]).unsqueeze(1) * h_all).sum(-1)
        return (one + two) / 2

    def score_all_heads(self, r, o, t):
        ho, to = self.entity("head", o, t), self.entity("tail", o, t)
        h_all, t_all = self.entity("head", None, t), self.entity("tail", None, t)
        one = ((self.rel[r] * to).unsqueeze(1) * h_all).sum(-1)
        two = ((ho * self.rel_inv[r]).unsqueeze(1) * t_all).sum(-1)
        return (one + two) / 2


class SimplE(DESimplE):
    """Static SimplE = DE-SimplE with γ = 0 (time is ignored)."""

    def __init__(
        self, num_entities: int, num_relations: int, num_timestamps: int = 1, dim: int = 32
    ):
        super().__init__(num_entities, num_relations, max(num_timestamps, 1), dim, gamma=0.0)


class TTransE(nn.Module):
    """``score = -‖e_s + r + τ_t - e_o‖₁``."""

    def __init__(self, num_entities: int, num_relations: int, num_timestamps: int, dim: int = 32):
        super().__init__()
        self.num_entities = num_entities
        self.ent = nn.Parameter(torch.randn(num_entities, dim) * dim**-0.5)
        self.rel = nn.Parameter(torch.randn(num_relations, dim) * dim**-0.5)
        self.tim = nn.Parameter(torch.randn(num_timestamps, dim) * dim**-0.5)

    def score(self, s, r, o, t):
        return -(self.ent[s] + self.rel[r] + self.tim[t] - self.ent[o]).abs().sum(-1)

    def score_all_tails(self, s, r, t):
        q = self.ent[s] + self.rel[r] + self.tim[t]
        return -(q.unsqueeze(1) - self.ent.unsqueeze(0)).abs().sum(-1)

    def score_all_heads(self, r, o, t):
        q = self.rel[r] + self.tim[t] - self.ent[o]
        return -(self.ent.unsqueeze(0) + q.unsqueeze(1)).abs().sum(-1)
