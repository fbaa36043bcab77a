"""DySAT (Sankar et al., WSDM 2020): structural attention per snapshot, then causal temporal
self-attention per node over the snapshot sequence.

Structural (GAT-style, logits scaled by edge weight): ``e_uv = w_uv · LeakyReLU(aᵀ[W x_u ‖ W x_v])``,
``α = softmax over in-neighbours u of v (with a self loop)``, ``z_v^t = ELU(Σ_u α_uv W x_u)``
(``heads`` heads concatenated). Temporal: ``Z_v = MHA(z_v^{1..T} + P)`` with learned position
embeddings P and a causal mask (position i attends to j <= i), plus a residual connection.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from torch import nn
from torch_geometric.utils import add_self_loops, softmax

from dyngraph_survey_models.models.snapshot import _SnapshotEncoder

__all__ = ["DySAT", "StructuralAttention"]


class StructuralAttention(nn.Module):
    """One GAT-style layer: ``x (N, in) -> (N, heads * out_per_head)``."""

    def __init__(self, in_channels: int, out_channels: int, heads: int = 2):
        super().__init__()
        if out_channels % heads:
            raise UserError(f"hidden: {out_channels} must be divisible by heads={heads}")
        self.heads, self.dh = heads, out_channels // heads
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.att_src = nn.Parameter(torch.randn(heads, self.dh) * 0.1)
        self.att_dst = nn.Parameter(torch.randn(heads, self.dh) * 0.1)

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        n = x.size(0)
        w = (
            torch.ones(edge_index.size(1), device=x.device)
            if edge_weight is None
            else edge_weight.float()
        )
        ei, w = add_self_loops(edge_index, w, fill_value=1.0, num_nodes=n)
        h = self.lin(x).view(n, self.heads, self.dh)
        src, dst = ei
        logits = F.leaky_relu(
            (h[src] * self.att_src).sum(-1) + (h[dst] * self.att_dst).sum(-1), 0.2
        )
        alpha = softmax(logits * w.view(-1, 1), dst, num_nodes=n)
        out = torch.zeros_like(h).index_add_(0, dst, h[src] * alpha.unsqueeze(-1))
        return F.elu(out.reshape(n, -1))


class DySAT(_SnapshotEncoder):
    """DySAT encoder; ``encode(snapshots) -> (Z (T, N, hidden), None)``; stateless across calls.

    ``max_snapshots`` bounds the learned position embeddings.
    """

    def __init__(
        self,
        num_nodes: int,
        in_channels: int = 32,
        hidden: int = 32,
        heads: int = 2,
        max_snapshots: int = 64,
    ):
        super().__init__(num_nodes, in_channels)
        self.structural = StructuralAttention(in_channels, hidden, heads)
        self.position = nn.Parameter(torch.randn(max_snapshots, hidden) * 0.1)
        self.temporal = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.max_snapshots = max_snapshots

    def encode(self, snapshots: Sequence, state=None, x: torch.Tensor | None = None):
        if not snapshots:
            raise UserError("snapshots: need at least one snapshot")
        t = len(snapshots)
        if t > self.max_snapshots:
            raise UserError(f"snapshots: at most max_snapshots={self.max_snapshots}, got {t}")
        zs = torch.stack(
            [
                self.structural(self._x(s, x), s.edge_index, getattr(s, "edge_weight", None))
                for s in snapshots
            ],
            dim=1,
        )  # (N, T, hidden)
        q = zs + self.position[:t]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        out, _ = self.temporal(q, q, q, attn_mask=causal, need_weights=False)
        return (out + zs).transpose(0, 1), None
