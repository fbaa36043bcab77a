"""Memory-based continuous-time models on PyG's ``TGNMemory``: TGN, TGAT (no memory) and JODIE.

TGN (Rossi et al. 2020), as PyG's ``examples/tgn.py``: ``TGNMemory`` (identity message, last
aggregator, GRU updater), a ``LastNeighborLoader`` of the ``num_neighbors`` latest neighbours,
and a graph-attention embedding ``z_v = TransformerConv([s_v ‖ e_v], neighbours, edge_attr =
[Φ(t_q - t_e) ‖ msg_e])`` (2 heads), then the link decoder. ``e_v`` is the node identity (a learned
embedding): without it, featureless nodes with zero-initialised memories are indistinguishable.
TGAT (Xu et al. 2020) here = the same attention embedding with memory removed.
JODIE (Kumar et al. 2019) in the memory framework (as in DyGLib): RNN updater on
``[s_other ‖ msg ‖ Φ(Δ)]`` and the projection ``ŝ_u(t) = (1 + w_p Δt) ⊙ s_u(t⁻)``.

Order (no leakage): :meth:`score` reads memory and neighbours built from observed events only;
:meth:`observe` then updates them. In ``train()`` mode PyG's memory returns the memory updated
by the previous batch's stored messages (with gradient) and stores the new ones.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import TransformerConv
from torch_geometric.nn.models.tgn import (
    IdentityMessage,
    LastAggregator,
    LastNeighborLoader,
    TGNMemory,
)

from dyngraph_survey_models.decoders import LinkDecoder
from dyngraph_survey_models.models.base import ContinuousTimeModel
from dyngraph_survey_models.time_encoding import make_time_encoder

__all__ = ["JODIE", "TGAT", "TGN"]


class _FloatTimeMemory(TGNMemory):
    """PyG's ``TGNMemory`` with float (scaled) times: PyG keeps ``last_update`` and the message
    store's times as int64, which would truncate continuous timestamps."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("last_update", torch.zeros(self.num_nodes, dtype=torch.float32))
        self.reset_state()

    def _reset_message_store(self):
        i = self.memory.new_empty((0,), dtype=torch.long)
        f = self.memory.new_empty((0,))
        msg = self.memory.new_empty((0, self.raw_msg_dim))
        self.msg_s_store = {j: (i, i, f, msg) for j in range(self.num_nodes)}
        self.msg_d_store = {j: (i, i, f, msg) for j in range(self.num_nodes)}


def _raw_msg_dim(msg_dim: int, embedding_dim: int, identity_in_messages: bool) -> int:
    """Width of the raw memory message: edge features (+ both endpoints' identities). PyG's
    message store drops empty feature tensors, so width 0 becomes one zero column."""
    return max(msg_dim + (2 * embedding_dim if identity_in_messages else 0), 1)


def _scaled_time(model: ContinuousTimeModel, t: torch.Tensor) -> torch.Tensor:
    """``t / time_scale`` in float32, the time unit of the memory."""
    return (t.to(torch.float64) / model.time_scale).float()


def _update_memory(model, src, dst, t, msg) -> None:
    """Store the raw messages of a batch in ``model.memory`` (shared by TGN and JODIE)."""
    raw = msg.float()
    if model.identity_in_messages:
        raw = torch.cat([raw, model.identity(src).detach(), model.identity(dst).detach()], dim=-1)
    if raw.size(1) == 0:
        raw = raw.new_zeros(raw.size(0), 1)
    model.memory.update_state(src, dst, _scaled_time(model, t), raw)


class _JodieMessage(nn.Module):
    """JODIE's update input ``[s_other ‖ msg ‖ Φ(Δ)]`` (own memory is the RNN hidden state)."""

    def __init__(self, raw_msg_dim: int, memory_dim: int, time_dim: int):
        super().__init__()
        self.out_channels = raw_msg_dim + memory_dim + time_dim

    def forward(self, z_src, z_dst, raw_msg, t_enc):
        return torch.cat([z_dst, raw_msg, t_enc], dim=-1)


class _EventBuffer:
    """Times and features of observed events, indexed by PyG's neighbour-loader edge ids."""

    def __init__(self, msg_dim: int):
        self.msg_dim = msg_dim
        self.reset()

    def reset(self) -> None:
        self.t = torch.zeros(0)
        self.msg = torch.zeros(0, self.msg_dim)

    def append(self, t: torch.Tensor, msg: torch.Tensor) -> None:
        self.t = torch.cat([self.t, t.float()])
        self.msg = torch.cat([self.msg, msg.float()])


class TGN(ContinuousTimeModel):
    """TGN with PyG's memory. All tensors are on one device; ids are ``(B,)`` int64.

    Args:
        num_nodes: N; msg_dim: edge-feature width (0 allowed).
        memory_dim, time_dim, embedding_dim: widths (quick defaults 32/16/32; the paper 100/100/100).
        num_neighbors: neighbours kept per node by the ``LastNeighborLoader``.
        time_encoder: ``"tgat"`` (Bochner, learnable ω) or ``"cos-linear"`` (PyG's) for edge times.
        decoder: link decoder kind; use_memory: ``False`` gives the TGAT-style model.
        identity_in_messages: append the (detached) identity embeddings of both endpoints to the
            raw memory message, so memories of featureless nodes record *whom* they met.
    """

    def __init__(
        self,
        num_nodes: int,
        msg_dim: int = 0,
        memory_dim: int = 32,
        time_dim: int = 16,
        embedding_dim: int = 32,
        num_neighbors: int = 10,
        time_encoder: str = "tgat",
        decoder: str = "mlp",
        use_memory: bool = True,
        identity_in_messages: bool = True,
    ):
        super().__init__()
        self.num_nodes, self.msg_dim, self.use_memory = num_nodes, msg_dim, use_memory
        self.memory_dim = memory_dim if use_memory else 0
        self.identity = nn.Embedding(num_nodes, embedding_dim)
        self.identity_in_messages = identity_in_messages
        raw_dim = _raw_msg_dim(msg_dim, embedding_dim, identity_in_messages)
        if use_memory:
            self.memory = _FloatTimeMemory(
                num_nodes,
                raw_dim,
                memory_dim,
                time_dim,
                IdentityMessage(raw_dim, memory_dim, time_dim),
                LastAggregator(),
            )
        self.time_enc = make_time_encoder(time_encoder, time_dim)
        self.conv = TransformerConv(
            self.memory_dim + embedding_dim,
            embedding_dim // 2,
            heads=2,
            dropout=0.1,
            edge_dim=time_dim + msg_dim,
        )
        self.decoder = LinkDecoder(decoder, embedding_dim)
        self.neighbors = LastNeighborLoader(num_nodes, size=num_neighbors)
        self.events = _EventBuffer(msg_dim)
        self._assoc = torch.empty(num_nodes, dtype=torch.long)

    def reset_state(self) -> None:
        if self.use_memory:
            self.memory.reset_state()
        self.neighbors.reset_state()
        self.events.reset()

    def detach_state(self) -> None:
        if self.use_memory:
            self.memory.detach()

    def embed(self, nodes: torch.Tensor, t_query: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings of ``nodes (B,)`` from the current state: returns ``(z (M, d), index (B,))``
        with ``z[index[j]]`` the embedding of ``nodes[j]``."""
        n_id = nodes.unique()
        n_id, edge_index, e_id = self.neighbors(n_id)
        self._assoc[n_id] = torch.arange(n_id.numel())
        ident = self.identity(n_id)
        if self.use_memory:
            mem, _ = self.memory(n_id)
            x = torch.cat([mem, ident], dim=-1)
        else:
            x = ident
        rel_t = (t_query - self.events.t[e_id]) / float(self.time_scale)
        edge_attr = torch.cat([self.time_enc(rel_t), self.events.msg[e_id]], dim=-1)
        z = self.conv(x, edge_index, edge_attr)
        return z, self._assoc[nodes].clone()

    def score(self, src, dst, t, msg=None):
        z, idx = self.embed(torch.cat([src, dst]), float(t.min()) if t.numel() else 0.0)
        b = src.numel()
        return self.decoder(z[idx[:b]], z[idx[b:]])

    def observe(self, src, dst, t, msg):
        if self.use_memory:
            _update_memory(self, src, dst, t, msg)
        self.neighbors.insert(src, dst)
        self.events.append(t, msg)


class TGAT(TGN):
    """TGAT-style model: one layer of temporal graph attention with Bochner time encoding over the
    latest neighbours, no memory (see :class:`TGN` for the arguments)."""

    def __init__(self, num_nodes: int, msg_dim: int = 0, **kwargs):
        kwargs["use_memory"] = False
        super().__init__(num_nodes, msg_dim, **kwargs)


class JODIE(ContinuousTimeModel):
    """JODIE in the memory framework: RNN memory + time projection + link decoder.

    ``ŝ_u(t) = (1 + w_p Δt) ⊙ s_u(t⁻)`` with Δt = (t - last update of u) / time_scale; the
    embedding is ``Linear([ŝ_u ‖ e_u])`` with ``e_u`` the node identity.
    """

    def __init__(
        self,
        num_nodes: int,
        msg_dim: int = 0,
        memory_dim: int = 32,
        time_dim: int = 16,
        embedding_dim: int = 32,
        decoder: str = "mlp",
        identity_in_messages: bool = True,
    ):
        super().__init__()
        self.identity = nn.Embedding(num_nodes, embedding_dim)
        self.identity_in_messages = identity_in_messages
        raw_dim = _raw_msg_dim(msg_dim, embedding_dim, identity_in_messages)
        self.memory = _FloatTimeMemory(
            num_nodes,
            raw_dim,
            memory_dim,
            time_dim,
            _JodieMessage(raw_dim, memory_dim, time_dim),
            LastAggregator(),
        )
        self.memory.gru = nn.RNNCell(self.memory.msg_s_module.out_channels, memory_dim)
        self.w_p = nn.Parameter(torch.randn(memory_dim) * 0.1)
        self.out = nn.Linear(memory_dim + embedding_dim, embedding_dim)
        self.decoder = LinkDecoder(decoder, embedding_dim)

    def project(self, s: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """``s (B, d), dt (B,) -> (1 + w_p dt) ⊙ s``; the identity when dt = 0."""
        return (1 + dt.view(-1, 1) * self.w_p) * s

    def reset_state(self) -> None:
        self.memory.reset_state()

    def detach_state(self) -> None:
        self.memory.detach()

    def embed(self, nodes: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``nodes (B,), t (B,) -> z (B, d)``."""
        n_id, inv = nodes.unique(return_inverse=True)
        mem, last = self.memory(n_id)
        dt = (_scaled_time(self, t) - last[inv]).clamp_min(0)
        s = self.project(mem[inv], dt)
        return self.out(torch.cat([s, self.identity(nodes)], dim=-1))

    def score(self, src, dst, t, msg=None):
        b = src.numel()
        z = self.embed(torch.cat([src, dst]), torch.cat([t, t]))
        return self.decoder(z[:b], z[b:])

    def observe(self, src, dst, t, msg):
        _update_memory(self, src, dst, t, msg)
