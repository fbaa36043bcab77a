"""Discrete-time views of an event stream: snapshots <-> events, and networkx sequences.

A CTDG can always be cut into snapshots (DTDG), losing the order of events inside a window.
Every snapshot is a PyG ``Data(edge_index (2, E_k), edge_weight (E_k,), num_nodes=N)`` with the
same N, so absent nodes are present with zero degree; repeated (u, v) pairs in a window are
merged and counted in ``edge_weight``. Snapshot k also carries ``t_start``/``t_end``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from papershelf.errors import UserError

from dyngraph_survey_models.data import EventStream

__all__ = ["from_networkx", "from_snapshots", "snapshot_bounds", "to_networkx", "to_snapshots"]


def snapshot_bounds(
    stream: EventStream, num_snapshots: int | None = None, window: float | None = None
) -> torch.Tensor:
    """(E,) int64 snapshot index of every event: equal-time windows of width ``window``, or
    ``num_snapshots`` equal-time windows over ``[t_min, t_max]`` (the last one closed)."""
    if (num_snapshots is None) == (window is None):
        raise UserError("snapshots: give exactly one of num_snapshots or window")
    if len(stream) == 0:
        raise UserError("snapshots: the stream has no events")
    t = stream.t.to(torch.float64)
    t0, t1 = float(t[0]), float(t[-1])
    if num_snapshots is not None:
        distinct = int(torch.unique(t).numel())
        if num_snapshots < 1 or num_snapshots > distinct:
            raise UserError(
                f"num_snapshots: must be in [1, {distinct}] (the number of distinct timestamps), got {num_snapshots}"
            )
        width = (t1 - t0) / num_snapshots if t1 > t0 else 1.0
        k = ((t - t0) / width).floor().long().clamp(max=num_snapshots - 1)
    else:
        if window <= 0:
            raise UserError(f"window: must be > 0, got {window}")
        k = ((t - t0) / window).floor().long()
    return k


def to_snapshots(
    stream: EventStream, num_snapshots: int | None = None, window: float | None = None
) -> list:
    """Cut the stream into snapshots (see module docstring). Edge counts are conserved:
    ``sum(s.edge_weight.sum()) == len(stream)``."""
    from torch_geometric.data import Data

    k = snapshot_bounds(stream, num_snapshots, window)
    count = int(k.max()) + 1
    n = stream.num_nodes
    t = stream.t.to(torch.float64)
    t0 = float(t[0])
    width = None
    if window is not None:
        width = window
    elif float(t[-1]) > t0:
        width = (float(t[-1]) - t0) / num_snapshots
    out = []
    for j in range(count):
        m = k == j
        key = stream.src[m] * n + stream.dst[m]
        uniq, cnt = torch.unique(key, return_counts=True)
        ei = torch.stack([uniq // n, uniq % n])
        d = Data(edge_index=ei, edge_weight=cnt.float(), num_nodes=n)
        d.t_start = t0 + j * width if width else t0
        d.t_end = t0 + (j + 1) * width if width else t0
        out.append(d)
    return out


def from_snapshots(
    snapshots: Sequence, times: Sequence[float] | None = None, bipartite: bool = False
) -> EventStream:
    """Events from snapshots: each (u, v) of snapshot k, repeated ``edge_weight`` times
    (rounded, at least once), at time ``times[k]`` (default k)."""
    if not snapshots:
        raise UserError("snapshots: the sequence is empty")
    times = list(range(len(snapshots))) if times is None else list(times)
    if len(times) != len(snapshots):
        raise UserError(f"times: need one per snapshot ({len(snapshots)}), got {len(times)}")
    src, dst, t = [], [], []
    n = int(snapshots[0].num_nodes)
    for s, tk in zip(snapshots, times, strict=True):
        w = getattr(s, "edge_weight", None)
        reps = (
            torch.ones(s.edge_index.size(1), dtype=torch.long)
            if w is None
            else w.round().long().clamp(min=1)
        )
        src.append(s.edge_index[0].repeat_interleave(reps))
        dst.append(s.edge_index[1].repeat_interleave(reps))
        t.append(torch.full((int(reps.sum()),), float(tk), dtype=torch.float64))
        n = max(n, int(s.num_nodes))
    return EventStream(
        torch.cat(src), torch.cat(dst), torch.cat(t), num_nodes=n, bipartite=bipartite
    )


def from_networkx(graphs: Sequence, times: Sequence[float] | None = None) -> EventStream:
    """Events from a sequence of networkx graphs on integer nodes ``0..N-1``; every edge of
    graph k becomes one event at ``times[k]`` (default k); edge attribute ``weight`` repeats it."""
    from torch_geometric.data import Data

    if not graphs:
        raise UserError("graphs: the sequence is empty")
    nodes = set()
    for g in graphs:
        nodes |= set(g.nodes)
    if not all(isinstance(v, int) and v >= 0 for v in nodes):
        raise UserError(
            "graphs: nodes must be non-negative integers (relabel with networkx.convert_node_labels_to_integers)"
        )
    n = max(nodes) + 1 if nodes else 0
    snaps = []
    for g in graphs:
        edges = sorted(g.edges(data="weight", default=1))
        ei = torch.tensor([[u, v] for u, v, _ in edges], dtype=torch.long).reshape(-1, 2).t()
        w = torch.tensor([float(x) for _, _, x in edges])
        snaps.append(Data(edge_index=ei, edge_weight=w, num_nodes=n))
    return from_snapshots(snaps, times)


def to_networkx(snapshots: Sequence, directed: bool = True) -> list:
    """One networkx (Di)Graph per snapshot, all with nodes ``0..N-1`` and ``weight`` = count."""
    import networkx as nx

    out = []
    for s in snapshots:
        g = nx.DiGraph() if directed else nx.Graph()
        g.add_nodes_from(range(int(s.num_nodes)))
        for (u, v), w in zip(s.edge_index.t().tolist(), s.edge_weight.tolist(), strict=True):
            g.add_edge(u, v, weight=w)
        out.append(g)
    return out
