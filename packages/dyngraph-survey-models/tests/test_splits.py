import random

import pytest
import torch
from dyngraph_survey_models.data import EventStream
from dyngraph_survey_models.splits import chronological_split
from papershelf.errors import UserError


def test_cut_times_and_pyg_indices(small_stream):
    sp = chronological_split(small_stream, protocol="transductive-only")
    assert float(sp.train.t.max()) <= sp.val_time < float(sp.val.t.min())
    assert float(sp.val.t.max()) <= sp.test_time < float(sp.test.t.min())
    train, val, test = small_stream.to_pyg().train_val_test_split(val_ratio=0.15, test_ratio=0.15)
    assert (len(sp.train), len(sp.val), len(sp.test)) == (
        train.num_events,
        val.num_events,
        test.num_events,
    )


def test_inductive_new_nodes(small_stream):
    sp = chronological_split(small_stream)
    n = small_stream.num_nodes
    assert sp.new_nodes.numel() == int(0.1 * n)
    after = set(
        torch.cat([small_stream.src, small_stream.dst])[
            torch.cat([small_stream.t, small_stream.t]) > sp.val_time
        ].tolist()
    )
    assert set(sp.new_nodes.tolist()) <= after
    expected = sorted(random.Random(2020).sample(sorted(after), int(0.1 * n)))
    assert sp.new_nodes.tolist() == expected
    train_nodes = set(sp.train.src.tolist()) | set(sp.train.dst.tolist())
    assert not train_nodes & set(sp.new_nodes.tolist())
    for part in (sp.new_node_val, sp.new_node_test):
        for u, v in zip(part.src.tolist(), part.dst.tolist(), strict=True):
            assert u not in train_nodes or v not in train_nodes


def test_empty_split_refused():
    s = EventStream([0, 1, 0, 1], [1, 0, 1, 0], [1.0, 1.0, 1.0, 1.0])
    with pytest.raises(UserError, match=r"has no events \(4 events tie"):
        chronological_split(s)
    with pytest.raises(UserError, match="protocol"):
        chronological_split(s, protocol="nope")
