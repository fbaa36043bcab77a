"""TGAT (Xu, Ruan, Korpeoglu, Kumar, Achan; ICLR 2020): temporal graph attention, as the paper
defines it.

Layer l for node v at time t over its temporal neighbours (u_i, t_i, e_i), t_i < t (eq. 7-9):

- query ``q = [h_v^{l-1}(t) ‖ Φ(0)] W_Q`` (the node's own row with the time encoding of a zero
  gap), keys / values ``K, V = [h_{u_i}^{l-1}(t_i) ‖ e_i ‖ Φ(t - t_i)] W_K / W_V``;
- multi-head attention ``h̃ = ‖_heads Σ_i softmax_i(q_h·k_{h,i} / √d_h) v_{h,i}``
  (a node with no earlier neighbour gets ``h̃ = 0``);
- merge (eq. 10): ``h_v^l(t) = FFN([h̃ ‖ x_v]) = W_2 ReLU(W_1 [h̃ ‖ x_v] + b_1) + b_2``.

``h^0 = x_v`` (the learned node identity: the synthetic and JODIE streams have no node features).
``Φ`` is the Bochner encoding of :class:`~dyngraph_survey_models.time_encoding.TGATTimeEncoding`.
Neighbours are sampled uniformly (with replacement) from all earlier events of the node
(``sampling="uniform"``, the paper's) or the ``num_neighbors`` most recent (``"recent"``), and
the layers recurse: a neighbour's ``h^{l-1}`` is computed at its own event time ``t_i`` from its
neighbours before ``t_i``. Cost O(k^L) per query node.

Times are float64: ``t - t_i`` is formed in float64, then divided by the train-fitted
``time_scale``.
"""

from __future__ import annotations

import math

import torch
from papershelf.errors import UserError
from torch import nn

from dyngraph_survey_models.decoders import LinkDecoder
from dyngraph_survey_models.models.base import ContinuousTimeModel
from dyngraph_survey_models.time_encoding import make_time_encoder

__all__ = ["SAMPLING", "TGAT", "TGATLayer", "TemporalNeighbors"]

SAMPLING = ("uniform", "recent")


class TemporalNeighbors:
    """Every observed event as two (node, neighbour, t, event id) entries, queryable by time.

    ``__call__(nodes (M,), times (M,))`` returns ``(nbr (M, k), t (M, k) float64, eid (M, k),
    mask (M, k))`` with only entries of events strictly earlier than each query time. Uniform
    draws come from a generator re-seeded by :meth:`reset` (deterministic evaluation).
    """

    def __init__(self, size: int, sampling: str = "uniform", seed: int = 0):
        if sampling not in SAMPLING:
            raise UserError(f"sampling: {sampling!r} is not one of {', '.join(SAMPLING)}")
        if size < 1:
            raise UserError(f"num_neighbors: must be >= 1, got {size}")
        self.size, self.sampling, self.seed = size, sampling, seed
        self.gen = torch.Generator()
        self.reset()

    def reset(self) -> None:
        self.node = torch.zeros(0, dtype=torch.long)
        self.nbr = torch.zeros(0, dtype=torch.long)
        self.t = torch.zeros(0, dtype=torch.float64)
        self.eid = torch.zeros(0, dtype=torch.long)
        self.num_events = 0
        self._dirty = True
        self.gen.manual_seed(self.seed)

    def insert(self, src: torch.Tensor, dst: torch.Tensor, t: torch.Tensor) -> None:
        eid = torch.arange(self.num_events, self.num_events + src.numel())
        self.num_events += src.numel()
        t = t.to(torch.float64)
        self.node = torch.cat([self.node, src, dst])
        self.nbr = torch.cat([self.nbr, dst, src])
        self.t = torch.cat([self.t, t, t])
        self.eid = torch.cat([self.eid, eid, eid])
        self._dirty = True

    def _index(self) -> None:
        """Sort entries by (node, time); keys = node * (U + 1) + rank of the time."""
        order = torch.argsort(self.t, stable=True)
        order = order[torch.argsort(self.node[order], stable=True)]
        self.node, self.nbr, self.t, self.eid = (
            x[order] for x in (self.node, self.nbr, self.t, self.eid)
        )
        self._times = torch.unique(self.t)
        self._base = self._times.numel() + 1
        self._keys = self.node * self._base + torch.searchsorted(self._times, self.t)
        self._dirty = False

    def __call__(self, nodes: torch.Tensor, times: torch.Tensor):
        m, k = nodes.numel(), self.size
        if self.node.numel() == 0:
            z = torch.zeros(m, k, dtype=torch.long)
            return z, z.to(torch.float64), z, torch.zeros(m, k, dtype=torch.bool)
        if self._dirty:
            self._index()
        rank = torch.searchsorted(self._times, times.to(torch.float64))  # #times < t
        start = torch.searchsorted(self._keys, nodes * self._base)
        end = torch.searchsorted(self._keys, nodes * self._base + rank)
        count = end - start
        if self.sampling == "recent":
            pos = end.view(-1, 1) - k + torch.arange(k).view(1, -1)
            mask = pos >= start.view(-1, 1)
        else:
            u = torch.rand(m, k, generator=self.gen, dtype=torch.float64)
            pos = start.view(-1, 1) + (u * count.view(-1, 1)).long()
            mask = (count > 0).view(-1, 1).expand(m, k).clone()
        pos = torch.where(mask, pos, torch.zeros_like(pos)).clamp_max(self.node.numel() - 1)
        return self.nbr[pos], self.t[pos], self.eid[pos], mask


class TGATLayer(nn.Module):
    """One TGAT layer (eq. 7-10; see module docstring).

    Args:
        dim: width d of ``h^{l-1}`` and of the output; feat_dim: width of ``x_v``;
        msg_dim: edge-feature width; time_dim: width of Φ; heads: attention heads (d % heads == 0).
    """

    def __init__(
        self, dim: int, feat_dim: int, msg_dim: int, time_dim: int, heads: int = 2, dropout=0.1
    ):
        super().__init__()
        if dim % heads:
            raise UserError(f"embedding_dim: must be divisible by heads={heads}, got {dim}")
        self.heads, self.dh = heads, dim // heads
        self.w_q = nn.Linear(dim + time_dim, dim, bias=False)
        self.w_k = nn.Linear(dim + msg_dim + time_dim, dim, bias=False)
        self.w_v = nn.Linear(dim + msg_dim + time_dim, dim, bias=False)
        self.ffn = nn.Sequential(
            nn.Linear(dim + feat_dim, dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, dim)
        )

    def forward(self, h_self, x_self, phi0, h_nbr, e_nbr, phi_nbr, mask):
        """``h_self (M, d), x_self (M, f), phi0 (T,), h_nbr (M, k, d), e_nbr (M, k, m),
        phi_nbr (M, k, T), mask (M, k) -> (M, d)``."""
        m, k = mask.shape
        q = self.w_q(torch.cat([h_self, phi0.expand(m, -1)], dim=-1)).view(m, self.heads, self.dh)
        kv_in = torch.cat([h_nbr, e_nbr, phi_nbr], dim=-1)
        key = self.w_k(kv_in).view(m, k, self.heads, self.dh)
        val = self.w_v(kv_in).view(m, k, self.heads, self.dh)
        logits = torch.einsum("mhd,mkhd->mhk", q, key) / math.sqrt(self.dh)
        logits = logits.masked_fill(~mask.view(m, 1, k), float("-inf"))
        att = torch.softmax(logits, dim=-1)
        att = torch.where(mask.any(-1).view(m, 1, 1), att, torch.zeros_like(att))
        h_tilde = torch.einsum("mhk,mkhd->mhd", att, val).reshape(m, -1)
        return self.ffn(torch.cat([h_tilde, x_self], dim=-1))


class TGAT(ContinuousTimeModel):
    """TGAT with L layers over sampled temporal neighbours; ids are ``(B,)`` int64.

    Args:
        num_nodes: N; msg_dim: edge-feature width (0 allowed).
        embedding_dim: d (node identity ``x_v`` and every layer's width); time_dim: Φ's width.
        num_neighbors: k per layer; num_layers: L (the paper uses 2); heads: attention heads.
        sampling: ``"uniform"`` (the paper's) or ``"recent"``; time_encoder: ``"tgat"`` or
            ``"cos-linear"``; decoder: link decoder kind; seed: the uniform sampler's seed.
    """

    def __init__(
        self,
        num_nodes: int,
        msg_dim: int = 0,
        embedding_dim: int = 32,
        time_dim: int = 16,
        num_neighbors: int = 10,
        num_layers: int = 2,
        heads: int = 2,
        sampling: str = "uniform",
        time_encoder: str = "tgat",
        decoder: str = "mlp",
        dropout: float = 0.1,
        seed: int = 0,
    ):
        super().__init__()
        if num_layers < 1:
            raise UserError(f"num_layers: must be >= 1, got {num_layers}")
        self.num_nodes, self.msg_dim, self.num_layers = num_nodes, msg_dim, num_layers
        self.identity = nn.Embedding(num_nodes, embedding_dim)
        self.time_enc = make_time_encoder(time_encoder, time_dim)
        self.layers = nn.ModuleList(
            TGATLayer(embedding_dim, embedding_dim, msg_dim, time_dim, heads, dropout)
            for _ in range(num_layers)
        )
        self.decoder = LinkDecoder(decoder, embedding_dim)
        self.neighbors = TemporalNeighbors(num_neighbors, sampling, seed)
        self.msg = torch.zeros(0, msg_dim)

    def reset_state(self) -> None:
        self.neighbors.reset()
        self.msg = torch.zeros(0, self.msg_dim)

    def embed(self, nodes: torch.Tensor, t: torch.Tensor, layer: int | None = None):
        """``h^layer`` of ``nodes (M,)`` at times ``t (M,)`` (default layer L) -> ``(M, d)``."""
        layer = self.num_layers if layer is None else layer
        x = self.identity(nodes)
        if layer == 0:
            return x
        m = nodes.numel()
        nbr, nt, eid, mask = self.neighbors(nodes, t)
        k = nbr.size(1)
        h_self = self.embed(nodes, t, layer - 1)
        h_nbr = self.embed(nbr.reshape(-1), nt.reshape(-1), layer - 1).view(m, k, -1)
        dt = (t.to(torch.float64).view(-1, 1) - nt) / float(self.time_scale)
        dt = torch.where(mask, dt, torch.zeros_like(dt))
        phi = self.time_enc(dt)
        phi0 = self.time_enc(torch.zeros(1, dtype=torch.float64)).view(-1)
        # nothing observed yet: every neighbour is masked, edge features are zeros
        e = self.msg[eid].to(x.dtype) if self.msg.size(0) else x.new_zeros(m, k, self.msg_dim)
        return self.layers[layer - 1](h_self, x, phi0, h_nbr, e, phi, mask)

    def score(self, src, dst, t, msg=None):
        b = src.numel()
        z = self.embed(torch.cat([src, dst]), torch.cat([t, t]))
        return self.decoder(z[:b], z[b:])

    def observe(self, src, dst, t, msg):
        self.neighbors.insert(src, dst, t)
        if self.msg_dim:
            self.msg = torch.cat([self.msg, msg.float()])
