"""Chronological train/val/test split, transductive and inductive (TGN/DyGLib protocol).

``val_time, test_time = quantile(t, [1 - val - test, 1 - test])``; train ``t <= val_time``, val
``val_time < t <= test_time``, test ``t > test_time``. Inductive (``protocol="tgn"``): new nodes
= ``random.Random(seed).sample(sorted(nodes with an event after val_time), int(f * N))``; every
event touching a new node is dropped from train; the new-node val/test subsets are the val/test
events with an endpoint outside the filtered train node set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
from papershelf.errors import UserError

from dyngraph_survey_models.data import EventStream

__all__ = ["Splits", "chronological_split"]


@dataclass
class Splits:
    """The result of :func:`chronological_split`.

    Attributes:
        full: the whole stream (node id space shared by all parts).
        train, val, test: the chronological parts (train filtered of new nodes under "tgn").
        new_node_val, new_node_test: inductive subsets (``None`` under "transductive-only").
        val_time, test_time: the cut times.
        new_nodes: (M,) sorted ids of the held-out new nodes.
        train_mask, val_mask, test_mask: (E,) bool masks over ``full``.
        protocol: "tgn" or "transductive-only".
    """

    full: EventStream
    train: EventStream
    val: EventStream
    test: EventStream
    new_node_val: EventStream | None
    new_node_test: EventStream | None
    val_time: float
    test_time: float
    new_nodes: torch.Tensor
    train_mask: torch.Tensor
    val_mask: torch.Tensor
    test_mask: torch.Tensor
    protocol: str

    def history_before(self, split: str) -> EventStream:
        """The events a model may replay before scoring ``split``: train for val;
        train + val for test (the train part filtered as in training)."""
        if split == "val":
            return self.train
        if split == "test":
            return self.full.select(self.train_mask | self.val_mask)
        raise UserError(f"split: {split!r} is not one of val, test")

    def part(self, split: str, inductive: bool = False) -> EventStream:
        if split not in ("val", "test"):
            raise UserError(f"split: {split!r} is not one of val, test")
        if not inductive:
            return self.val if split == "val" else self.test
        if self.new_node_val is None:
            raise UserError("inductive: the split was made with protocol='transductive-only'")
        return self.new_node_val if split == "val" else self.new_node_test

    def summary(self) -> dict:
        return {
            "val_time": self.val_time,
            "test_time": self.test_time,
            "train": len(self.train),
            "val": len(self.val),
            "test": len(self.test),
            "new_node_val": None if self.new_node_val is None else len(self.new_node_val),
            "new_node_test": None if self.new_node_test is None else len(self.new_node_test),
            "new_nodes": self.new_nodes.tolist(),
            "protocol": self.protocol,
        }


def chronological_split(
    stream: EventStream,
    val: float = 0.15,
    test: float = 0.15,
    new_node_fraction: float = 0.1,
    protocol: str = "tgn",
    seed: int = 2020,
    cut_times: tuple[float, float] | None = None,
) -> Splits:
    """Split ``stream`` by time (see module docstring).

    ``cut_times=(val_time, test_time)`` fixes the cuts instead of taking quantiles.

    Raises:
        UserError: bad fractions, an unknown protocol, a part with no events (saying whether
            ties at the quantile caused it), or no node active after ``val_time``.
    """
    if protocol not in ("tgn", "transductive-only"):
        raise UserError(f"protocol: {protocol!r} is not one of tgn, transductive-only")
    if not (0 < val < 1 and 0 < test < 1 and val + test < 1):
        raise UserError(f"val, test: need 0 < val, test and val + test < 1, got {val}, {test}")
    if not 0 <= new_node_fraction < 1:
        raise UserError(f"new_node_fraction: must be in [0, 1), got {new_node_fraction}")
    if len(stream) < 3:
        raise UserError(f"events: need at least 3 events to split, got {len(stream)}")
    t = stream.t.to(torch.float64).numpy()
    if cut_times is None:
        val_time, test_time = (float(x) for x in np.quantile(t, [1 - val - test, 1 - test]))
    else:
        val_time, test_time = (float(x) for x in cut_times)
    tt = stream.t.to(torch.float64)
    train_mask = tt <= val_time
    val_mask = (tt > val_time) & (tt <= test_time)
    test_mask = tt > test_time
    for name, m in (("train", train_mask), ("val", val_mask), ("test", test_mask)):
        if not bool(m.any()):
            ties = int((tt == (test_time if name != "train" else val_time)).sum())
            cause = f" ({ties} events tie at the quantile time)" if ties > 1 else ""
            raise UserError(
                f"split: the {name} part has no events{cause}; use more distinct timestamps or other fractions"
            )
    new_nodes = torch.zeros(0, dtype=torch.long)
    train_keep = train_mask
    nn_val = nn_test = None
    if protocol == "tgn":
        after = torch.cat([stream.src[~train_mask], stream.dst[~train_mask]]).unique().tolist()
        if not after:
            raise UserError("inductive: no node has an event after val_time")
        count = int(new_node_fraction * stream.num_nodes)
        picked = random.Random(seed).sample(sorted(after), min(count, len(after)))
        new_nodes = torch.tensor(sorted(picked), dtype=torch.long)
        is_new = torch.zeros(stream.num_nodes, dtype=torch.bool)
        is_new[new_nodes] = True
        touches = is_new[stream.src] | is_new[stream.dst]
        train_keep = train_mask & ~touches
        seen = torch.zeros(stream.num_nodes, dtype=torch.bool)
        seen[stream.src[train_keep]] = True
        seen[stream.dst[train_keep]] = True
        unseen_ep = ~seen[stream.src] | ~seen[stream.dst]
        nn_val = stream.select(val_mask & unseen_ep)
        nn_test = stream.select(test_mask & unseen_ep)
    return Splits(
        full=stream,
        train=stream.select(train_keep),
        val=stream.select(val_mask),
        test=stream.select(test_mask),
        new_node_val=nn_val,
        new_node_test=nn_test,
        val_time=val_time,
        test_time=test_time,
        new_nodes=new_nodes,
        train_mask=train_keep,
        val_mask=val_mask,
        test_mask=test_mask,
        protocol=protocol,
    )
