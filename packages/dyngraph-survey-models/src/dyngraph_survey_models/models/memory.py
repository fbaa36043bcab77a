"""Memory-based continuous-time models on PyG's ``TGNMemory``: TGN and JODIE (TGAT: ``models/tgat.py``).

TGN (Rossi et al. 2020), as PyG's ``examples/tgn.py``: ``TGNMemory`` (identity message, last
aggregator, GRU updater), a ``LastNeighborLoader`` of the ``num_neighbors`` latest neighbours,
and a graph-attention embedding ``z_v = TransformerConv([s_v ‖ e_v], neighbours, edge_attr =
[Φ(t_q - t_e) ‖ msg_e])`` (2 heads), then the link decoder. ``e_v`` is the node identity (a learned
embedding): without it, featureless nodes with zero-initialised memories are indistinguishable.
JODIE (Kumar et al. 2019) in the memory framework (as in DyGLib, trained event-batch by
event-batch without t-Batch): two RNNs, one updating sources (users) and one destinations
(items), each on the message ``[s_self ‖ s_other ‖ f ‖ Φ(Δ)]`` with the node's own memory as the
hidden state (paper eq. 1-2: ``u(t) = σ(W₁ u(t⁻) + W₂ i(t⁻) + W₃ f + W₄ Δ_u)``), and the
projection ``ŝ_u(t) = (1 + w_p Δt) ⊙ s_u(t⁻)`` (paper eq. 3).

Times are float64 end to end (``last_update``, the message store, the neighbour event times):
differences are taken in float64 and only then scaled and cast to float32, so Unix-epoch
timestamps (~1.7e9 s) keep exact one-second gaps.

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

__all__ = ["JODIE", "TGN"]


class _FloatTimeMemory(TGNMemory):
    """PyG's ``TGNMemory`` with float64 (scaled) times: PyG keeps ``last_update`` and the
    message store's times as int64, which would truncate continuous timestamps, and float32
    would round Unix-epoch times to 128 s. ``t - last_update`` is formed in float64 by PyG's
    ``_compute_msg`` before its cast to the message dtype."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("last_update", torch.zeros(self.num_nodes, dtype=torch.float64))
        self.reset_state()

    def _reset_message_store(self):
        i = self.memory.new_empty((0,), dtype=torch.long)
        f = self.memory.new_empty((0,), dtype=torch.float64)
        msg = self.memory.new_empty((0, self.raw_msg_dim))
        self.msg_s_store = {j: (i, i, f, msg) for j in range(self.num_nodes)}
        self.msg_d_store = {j: (i, i, f, msg) for j in range(self.num_nodes)}


def _raw_msg_dim(msg_dim: int, embedding_dim: int, identity_in_messages: bool) -> int:
    """Width of the raw memory message: edge features (+ both endpoints' identities). PyG's
    message store drops empty feature tensors, so width 0 becomes one zero column."""
    return max(msg_dim + (2 * embedding_dim if identity_in_messages else 0), 1)


def _scaled_time(model: ContinuousTimeModel, t: torch.Tensor) -> torch.Tensor:
    """``t / time_scale`` in float64, the time unit of the memory (float32 would round
    epoch-second times; differences are cast to float32 only after subtraction)."""
    return t.to(torch.float64) / model.time_scale.to(torch.float64)


def _update_memory(model, src, dst, t, msg) -> None:
    """Store the raw messages of a batch in ``model.memory`` (shared by TGN and JODIE)."""
    raw = msg.float()
    if model.identity_in_messages:
        raw = torch.cat([raw, model.identity(src).detach(), model.identity(dst).detach()], dim=-1)
    if raw.size(1) == 0:
        raw = raw.new_zeros(raw.size(0), 1)
    model.memory.update_state(src, dst, _scaled_time(model, t), raw)


class _JodieMemory(_FloatTimeMemory):
    """JODIE's memory: PyG's message store (identity message ``[s_self ‖ s_other ‖ f ‖ Φ(Δ)]``,
    last aggregator) with two RNN updaters, ``rnn_src`` for a node whose latest message came
    from an event where it was the source (the user) and ``rnn_dst`` where it was the
    destination (the item). A node without a stored message keeps its memory."""

    def __init__(self, num_nodes: int, raw_msg_dim: int, memory_dim: int, time_dim: int):
        super().__init__(
            num_nodes,
            raw_msg_dim,
            memory_dim,
            time_dim,
            IdentityMessage(raw_msg_dim, memory_dim, time_dim),
            LastAggregator(),
        )
        del self.gru  # one RNN per side instead
        width = self.msg_s_module.out_channels
        self.rnn_src = nn.RNNCell(width, memory_dim)
        self.rnn_dst = nn.RNNCell(width, memory_dim)

    def reset_parameters(self):
        if hasattr(self, "rnn_src"):
            self.rnn_src.reset_parameters()
            self.rnn_dst.reset_parameters()
        self.time_enc.reset_parameters()
        self.reset_state()

    def _get_updated_memory(self, n_id: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``n_id (M,) -> (memory (M, d), last_update (M,) float64)`` after applying the stored
        messages: the latest message per node picks the updater by the node's role in it."""
        self._assoc[n_id] = torch.arange(n_id.size(0), device=n_id.device)
        msg_s, t_s, src_s, _ = self._compute_msg(n_id, self.msg_s_store, self.msg_s_module)
        msg_d, t_d, src_d, _ = self._compute_msg(n_id, self.msg_d_store, self.msg_d_module)
        idx = torch.cat([src_s, src_d])
        t = torch.cat([t_s, t_d])
        role = torch.cat([msg_s.new_ones(msg_s.size(0), 1), msg_s.new_zeros(msg_d.size(0), 1)])
        has = role.new_ones(idx.numel(), 1)
        msg = torch.cat([torch.cat([msg_s, msg_d]), role, has], dim=-1)
        aggr = self.aggr_module(msg, self._assoc[idx], t, n_id.size(0))
        aggr, is_src, got = aggr[:, :-2], aggr[:, -2:-1] > 0.5, aggr[:, -1:] > 0.5
        prev = self.memory[n_id]
        new = torch.where(is_src, self.rnn_src(aggr, prev), self.rnn_dst(aggr, prev))
        memory = torch.where(got, new, prev)
        last = self.last_update.clone()
        if idx.numel():
            last = last.scatter_reduce(0, idx, t, reduce="amax", include_self=True)
        return memory, last[n_id]


class _EventBuffer:
    """Times (float64) and features of observed events, indexed by PyG's neighbour-loader edge
    ids. Storage grows by doubling, so appending a batch costs O(batch), not O(events seen)."""

    def __init__(self, msg_dim: int):
        self.msg_dim = msg_dim
        self.reset()

    def reset(self) -> None:
        self.size = 0
        self._t = torch.zeros(1024, dtype=torch.float64)
        self._msg = torch.zeros(1024, self.msg_dim)

    @property
    def t(self) -> torch.Tensor:
        return self._t[: self.size]

    @property
    def msg(self) -> torch.Tensor:
        return self._msg[: self.size]

    def append(self, t: torch.Tensor, msg: torch.Tensor) -> None:
        n = t.numel()
        if self.size + n > self._t.numel():
            cap = max(2 * self._t.numel(), self.size + n)
            self._t = torch.cat([self._t[: self.size], self._t.new_zeros(cap - self.size)])
            self._msg = torch.cat(
                [self._msg[: self.size], self._msg.new_zeros(cap - self.size, self.msg_dim)]
            )
        self._t[self.size : self.size + n] = t.to(torch.float64)
        self._msg[self.size : self.size + n] = msg.float()
        self.size += n


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
        rel_t = (t_query - self.events.t[e_id]) / float(self.time_scale)  # float64
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


class JODIE(ContinuousTimeModel):
    """JODIE in the memory framework: two RNN memories (sources/users, destinations/items),
    the time projection and a link decoder.

    Update after an event (u, i, t, f) (Kumar et al. 2019, eq. 1-2, as DyGLib's message):
    ``s_u ← RNN_src([s_u ‖ s_i ‖ f ‖ Φ(Δ_u)], s_u)``, ``s_i ← RNN_dst([s_i ‖ s_u ‖ f ‖ Φ(Δ_i)], s_i)``.
    Projection (eq. 3): ``ŝ_u(t) = (1 + w_p Δt) ⊙ s_u(t⁻)`` with Δt = (t - last update of u) /
    time_scale; the embedding is ``Linear([ŝ_u ‖ e_u])`` with ``e_u`` the node identity.
    Trained in event batches through the shared protocol (no t-Batch, as DyGLib).
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
        self.memory = _JodieMemory(num_nodes, raw_dim, memory_dim, time_dim)
        self.w_p = nn.Parameter(torch.randn(memory_dim) * 0.1)
        self.out = nn.Linear(memory_dim + embedding_dim, embedding_dim)
        self.decoder = LinkDecoder(decoder, embedding_dim)

    def project(self, s: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """``s (B, d), dt (B,) -> (1 + w_p dt) ⊙ s`` (JODIE eq. 3); the identity when dt = 0."""
        return (1 + dt.view(-1, 1) * self.w_p) * s

    def reset_state(self) -> None:
        self.memory.reset_state()

    def detach_state(self) -> None:
        self.memory.detach()

    def embed(self, nodes: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``nodes (B,), t (B,) -> z (B, d)``."""
        n_id, inv = nodes.unique(return_inverse=True)
        mem, last = self.memory(n_id)
        dt = (_scaled_time(self, t) - last[inv]).clamp_min(0).to(mem.dtype)  # float64 diff
        s = self.project(mem[inv], dt)
        return self.out(torch.cat([s, self.identity(nodes)], dim=-1))

    def score(self, src, dst, t, msg=None):
        b = src.numel()
        z = self.embed(torch.cat([src, dst]), torch.cat([t, t]))
        return self.decoder(z[:b], z[b:])

    def observe(self, src, dst, t, msg):
        _update_memory(self, src, dst, t, msg)
