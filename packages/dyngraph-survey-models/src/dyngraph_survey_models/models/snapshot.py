"""Discrete-time (snapshot) encoders: GConvGRU, EvolveGCN-O, EvolveGCN-H.

All share one interface: ``encode(snapshots, state=None) -> (Z (T, N, d), state)`` where
``Z[k]`` is computed from snapshots ``0..k`` only, and ``forward`` returns ``(Z[-1], state)``.
Recurrent state (hidden node states, evolving weights) is an explicit argument and return
value, never a module attribute, so independent calls share nothing (the
torch-geometric-temporal "backward through the graph a second time" bug cannot happen).
Featureless nodes get a learned identity ``nn.Embedding(N, in_channels)`` as X. Each encoder
implements ``cell(snap, state, x) -> (z, state)``, the update by one snapshot, which ``encode``
applies in order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from papershelf.errors import UserError
from torch import nn
from torch_geometric.nn import ChebConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

__all__ = ["EvolveGCNH", "EvolveGCNO", "GConvGRU", "gcn_propagate"]


def gcn_propagate(
    x: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor | None, num_nodes: int
) -> torch.Tensor:
    """``Â x`` with ``Â = D^{-1/2}(A + I)D^{-1/2}`` (PyG ``gcn_norm``); ``x (N, d) -> (N, d)``."""
    ei, w = gcn_norm(edge_index, edge_weight, num_nodes, add_self_loops=True, dtype=x.dtype)
    return torch.zeros_like(x).index_add_(0, ei[1], x[ei[0]] * w.view(-1, 1))


class _SnapshotEncoder(nn.Module):
    def __init__(self, num_nodes: int, in_channels: int):
        super().__init__()
        if num_nodes < 1 or in_channels < 1:
            raise UserError(f"num_nodes, in_channels: must be >= 1, got {num_nodes}, {in_channels}")
        self.num_nodes, self.in_channels = num_nodes, in_channels
        self.identity = nn.Embedding(num_nodes, in_channels)

    def _x(self, snap, x: torch.Tensor | None) -> torch.Tensor:
        x = getattr(snap, "x", None) if x is None else x
        return self.identity.weight if x is None else x

    def forward(self, snapshots: Sequence, state=None, x: torch.Tensor | None = None):
        z, state = self.encode(snapshots, state, x)
        return z[-1], state

    def encode(self, snapshots: Sequence, state=None, x: torch.Tensor | None = None):
        if not snapshots:
            raise UserError("snapshots: need at least one snapshot")
        outs = []
        for snap in snapshots:
            if int(snap.num_nodes) != self.num_nodes:
                raise UserError(
                    f"snapshots: every snapshot needs num_nodes={self.num_nodes}, got {snap.num_nodes}"
                )
            z, state = self.cell(snap, state, self._x(snap, x))
            outs.append(z)
        return torch.stack(outs), state


class GConvGRU(_SnapshotEncoder):
    """Seo et al. 2018 (PyG-temporal form): a GRU whose products are Chebyshev convolutions,
    ``z = σ(W_xz⋆x + W_hz⋆h)``, ``r = σ(W_xr⋆x + W_hr⋆h)``, ``h̃ = tanh(W_xh⋆x + W_hh⋆(r⊙h))``,
    ``h' = z⊙h + (1-z)⊙h̃`` (reset applied before the convolution, unlike ``nn.GRUCell``).
    State: ``h (N, hidden)``."""

    def __init__(self, num_nodes: int, in_channels: int = 32, hidden: int = 32, K: int = 2):
        super().__init__(num_nodes, in_channels)
        if K < 1:
            raise UserError(f"K: must be >= 1, got {K}")
        self.hidden = hidden
        self.conv_xz, self.conv_xr, self.conv_xh = (
            ChebConv(in_channels, hidden, K) for _ in range(3)
        )
        self.conv_hz, self.conv_hr, self.conv_hh = (ChebConv(hidden, hidden, K) for _ in range(3))

    def cell(self, snap, h, x):
        if h is None:
            h = x.new_zeros(self.num_nodes, self.hidden)
        ei, w = snap.edge_index, getattr(snap, "edge_weight", None)
        z = torch.sigmoid(self.conv_xz(x, ei, w) + self.conv_hz(h, ei, w))
        r = torch.sigmoid(self.conv_xr(x, ei, w) + self.conv_hr(h, ei, w))
        h_tilde = torch.tanh(self.conv_xh(x, ei, w) + self.conv_hh(r * h, ei, w))
        h = z * h + (1 - z) * h_tilde
        return h, h


class EvolveGCNO(_SnapshotEncoder):
    """Pareja et al. 2020, -O: ``W_t = RNN(W_{t-1})`` (the weight is both input and hidden state,
    its columns the batch), ``H_t = ReLU(Â_t X_t W_t)``. ``rnn``: "lstm" (paper) or "gru"
    (PyG-temporal). Square weights (in × in). State: ``W (in, in)`` (and the LSTM cell)."""

    def __init__(self, num_nodes: int, in_channels: int = 32, rnn: str = "lstm"):
        super().__init__(num_nodes, in_channels)
        if rnn not in ("lstm", "gru"):
            raise UserError(f"rnn: {rnn!r} is not one of lstm, gru")
        self.rnn_kind = rnn
        self.w0 = nn.Parameter(torch.empty(in_channels, in_channels))
        nn.init.xavier_uniform_(self.w0)
        self.rnn = (
            nn.LSTMCell(in_channels, in_channels)
            if rnn == "lstm"
            else nn.GRUCell(in_channels, in_channels)
        )

    def cell(self, snap, state, x):
        if state is None:
            state = (self.w0, torch.zeros_like(self.w0)) if self.rnn_kind == "lstm" else self.w0
        if self.rnn_kind == "lstm":
            w, c = state
            h_t, c_t = self.rnn(w.t(), (w.t(), c.t()))
            w, state = h_t.t(), (h_t.t(), c_t.t())
        else:
            w = self.rnn(state.t(), state.t()).t()
            state = w
        out = torch.relu(
            gcn_propagate(
                x @ w, snap.edge_index, getattr(snap, "edge_weight", None), self.num_nodes
            )
        )
        return out, state


class EvolveGCNH(_SnapshotEncoder):
    """Pareja et al. 2020, -H: ``W_t = GRU(X̃_t, W_{t-1})`` with ``X̃_t`` the top-k rows of X_t by
    ``y = X_t p / ‖p‖``, each scaled by ``tanh(y)``, k = in_channels; ``H_t = ReLU(Â_t X_t W_t)``.
    State: ``W (in, in)``. Needs num_nodes >= in_channels."""

    def __init__(self, num_nodes: int, in_channels: int = 32):
        if num_nodes < in_channels:
            raise UserError(
                f"EvolveGCN-H: num_nodes={num_nodes} must be >= in_channels={in_channels} (top-k pooling)"
            )
        super().__init__(num_nodes, in_channels)
        self.w0 = nn.Parameter(torch.empty(in_channels, in_channels))
        nn.init.xavier_uniform_(self.w0)
        self.p = nn.Parameter(torch.randn(in_channels) / in_channels**0.5)
        self.rnn = nn.GRUCell(in_channels, in_channels)

    def summarize(self, x: torch.Tensor) -> torch.Tensor:
        """``x (N, in) -> X̃ (in, in)``: top-in rows by score, scaled by tanh(score)."""
        y = x @ self.p / self.p.norm()
        top = torch.topk(y, self.in_channels).indices
        return x[top] * torch.tanh(y[top]).unsqueeze(-1)

    def cell(self, snap, w, x):
        w = self.w0 if w is None else w
        w = self.rnn(self.summarize(x), w)
        out = torch.relu(
            gcn_propagate(
                x @ w, snap.edge_index, getattr(snap, "edge_weight", None), self.num_nodes
            )
        )
        return out, w
