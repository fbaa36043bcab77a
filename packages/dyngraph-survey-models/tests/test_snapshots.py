import networkx as nx
import pytest
import torch
from dyngraph_survey_models.snapshots import (
    from_networkx,
    from_snapshots,
    to_networkx,
    to_snapshots,
)
from papershelf.errors import UserError


def test_snapshots_conserve_edges(small_stream):
    snaps = to_snapshots(small_stream, num_snapshots=7)
    assert len(snaps) == 7
    assert sum(float(s.edge_weight.sum()) for s in snaps) == len(small_stream)
    assert all(s.num_nodes == small_stream.num_nodes for s in snaps)
    back = from_snapshots(snaps)
    pairs = lambda s: sorted(zip(s.src.tolist(), s.dst.tolist(), strict=True))  # noqa: E731
    assert pairs(back) == pairs(small_stream)


def test_window_and_errors(small_stream):
    snaps = to_snapshots(small_stream, window=100.0)
    assert sum(int(s.edge_weight.sum()) for s in snaps) == len(small_stream)
    with pytest.raises(UserError, match="num_snapshots"):
        to_snapshots(small_stream, num_snapshots=10**6)
    with pytest.raises(UserError, match="exactly one"):
        to_snapshots(small_stream)


def test_networkx_round_trip():
    g1, g2 = nx.DiGraph(), nx.DiGraph()
    g1.add_edges_from([(0, 1), (1, 2)])
    g2.add_edge(2, 0, weight=3)
    s = from_networkx([g1, g2], times=[10.0, 20.0])
    assert s.t.tolist() == [10.0, 10.0, 20.0, 20.0, 20.0]
    graphs = to_networkx(to_snapshots(s, num_snapshots=2))
    assert set(graphs[0].edges) == {(0, 1), (1, 2)}
    assert graphs[1][2][0]["weight"] == 3
    with pytest.raises(UserError, match="non-negative integers"):
        from_networkx([nx.path_graph(["a", "b"])])


def test_from_snapshots_times_mismatch():
    from torch_geometric.data import Data

    with pytest.raises(UserError, match="times"):
        from_snapshots(
            [Data(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=2)], times=[1, 2]
        )
