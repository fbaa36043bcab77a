"""The event-stream data type and its readers/writers.

An :class:`EventStream` is a continuous-time dynamic graph: time-ordered interactions
``(src_e, dst_e, t_e, msg_e)``, ``e = 0..E-1``, with 0-based contiguous node ids. It converts
losslessly to and from PyG's :class:`torch_geometric.data.TemporalData`.

Readers: DyGLib processed files (``ml_<name>.csv`` + ``ml_<name>.npy``; 1-based ids with an
all-zero padding row 0), raw JODIE/DyGLib CSV (``user,item,timestamp,state_label,f1...``),
TGB-style edge lists (a header naming source / destination / timestamp columns, e.g.
``source,destination,timestamp`` or ``ts,src,dst,w``; any ids, relabelled 0..N-1 in order of
first appearance; other columns become edge features) and a plain ``src,dst,t[,features...]``
CSV. :func:`read_temporal_data` returns PyG ``TemporalData``. Every error names the file, the
line and the field.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from papershelf.errors import UserError

__all__ = [
    "FORMATS",
    "MAX_NODES",
    "EventStream",
    "read_events",
    "read_temporal_data",
    "write_csv",
    "write_dyglib",
]

FORMATS = ("auto", "csv", "jodie", "dyglib", "tgb")
MAX_NODES = 10_000_000  # integer ids above this are refused (a typo would allocate GBs)
_TGB_SRC = ("source", "src", "u", "head", "user_id", "user")
_TGB_DST = ("destination", "dst", "i", "tail", "item_id", "item")
_TGB_T = ("timestamp", "ts", "t", "time")


@dataclass
class EventStream:
    """A time-ordered stream of interactions.

    Attributes:
        src: (E,) int64 source node ids in ``[0, num_nodes)``.
        dst: (E,) int64 destination node ids in ``[0, num_nodes)``.
        t: (E,) non-decreasing float64 (or int64) timestamps, finite and >= 0.
        msg: (E, d_msg) float32 edge features (``d_msg`` may be 0).
        num_nodes: number of nodes N (ids are ``0..N-1``; nodes may be inactive).
        bipartite: whether sources and destinations are disjoint sets
            (sources ``0..num_src_nodes-1``, destinations ``num_src_nodes..N-1``).
        num_src_nodes: number of source nodes when bipartite, else ``num_nodes``.
        y: optional (E,) labels (e.g. DyGLib ``label``), carried along, never used for training.
        meta: free-form metadata (e.g. a generator's ground-truth schedule).
    """

    src: torch.Tensor
    dst: torch.Tensor
    t: torch.Tensor
    msg: torch.Tensor | None = None
    num_nodes: int | None = None
    bipartite: bool = False
    num_src_nodes: int | None = None
    y: torch.Tensor | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.src = torch.as_tensor(self.src, dtype=torch.long).reshape(-1)
        self.dst = torch.as_tensor(self.dst, dtype=torch.long).reshape(-1)
        t = torch.as_tensor(self.t)
        self.t = t.reshape(-1) if not t.is_floating_point() else t.to(torch.float64).reshape(-1)
        n = self.src.numel()
        if self.dst.numel() != n or self.t.numel() != n:
            raise UserError(
                f"events: src, dst and t must have the same length, got "
                f"{n}, {self.dst.numel()}, {self.t.numel()}"
            )
        if self.msg is None:
            self.msg = torch.zeros(n, 0)
        self.msg = torch.as_tensor(self.msg, dtype=torch.float32)
        if self.msg.dim() != 2 or self.msg.size(0) != n:
            raise UserError(f"msg: must have shape (E={n}, d), got {tuple(self.msg.shape)}")
        if n:
            if self.t.is_floating_point() and not torch.isfinite(self.t).all():
                bad = int((~torch.isfinite(self.t)).nonzero()[0])
                raise UserError(f"t: event {bad} has a non-finite time {self.t[bad].item()}")
            if (self.t < 0).any():
                bad = int((self.t < 0).nonzero()[0])
                raise UserError(f"t: event {bad} has a negative time {self.t[bad].item()}")
            dec = (self.t[1:] < self.t[:-1]).nonzero()
            if dec.numel():
                i = int(dec[0]) + 1
                raise UserError(
                    f"t: events out of time order at event {i} "
                    f"(t={self.t[i].item()} < previous {self.t[i - 1].item()}); sort them first"
                )
            lo = int(min(self.src.min(), self.dst.min()))
            if lo < 0:
                raise UserError(f"node ids: must be >= 0, got {lo}")
        hi = int(max(self.src.max(), self.dst.max())) + 1 if n else 0
        if self.num_nodes is None:
            self.num_nodes = hi
        elif hi > self.num_nodes:
            raise UserError(f"node ids: must be < num_nodes={self.num_nodes}, got {hi - 1}")
        if self.bipartite:
            if self.num_src_nodes is None:
                self.num_src_nodes = int(self.src.max()) + 1 if n else 0
            if n and (
                int(self.src.max()) >= self.num_src_nodes
                or int(self.dst.min()) < self.num_src_nodes
            ):
                raise UserError(
                    f"bipartite: sources must be < num_src_nodes={self.num_src_nodes} "
                    "and destinations >= it"
                )
        else:
            self.num_src_nodes = self.num_nodes

    def __len__(self) -> int:
        return int(self.src.numel())

    @property
    def msg_dim(self) -> int:
        return int(self.msg.size(1))

    def dst_candidates(self) -> torch.Tensor:
        """(M,) node ids a destination can be: the items when bipartite, else every node."""
        if self.bipartite:
            return torch.arange(self.num_src_nodes, self.num_nodes)
        return torch.arange(self.num_nodes)

    def select(self, mask_or_index: torch.Tensor) -> EventStream:
        """The sub-stream of the given events (order kept, node id space unchanged)."""
        idx = mask_or_index
        return EventStream(
            self.src[idx],
            self.dst[idx],
            self.t[idx],
            self.msg[idx],
            num_nodes=self.num_nodes,
            bipartite=self.bipartite,
            num_src_nodes=self.num_src_nodes,
            y=None if self.y is None else self.y[idx],
            meta=dict(self.meta),
        )

    def to_pyg(self):
        """The stream as PyG ``TemporalData(src, dst, t, msg[, y])``."""
        from torch_geometric.data import TemporalData

        kw = {"y": self.y} if self.y is not None else {}
        return TemporalData(src=self.src, dst=self.dst, t=self.t, msg=self.msg, **kw)

    @classmethod
    def from_pyg(cls, data, num_nodes: int | None = None, bipartite: bool = False) -> EventStream:
        """Build a stream from PyG ``TemporalData`` (validates order and ids)."""
        msg = getattr(data, "msg", None)
        return cls(
            data.src,
            data.dst,
            data.t,
            msg,
            num_nodes=num_nodes,
            bipartite=bipartite,
            y=getattr(data, "y", None),
        )


def _num(text: str, path: Path, line: int, name: str, integer: bool = False) -> float:
    try:
        v = float(text)
    except ValueError:
        raise UserError(f"{path}:{line}: {name} must be a number, got {text!r}") from None
    if integer and (not math.isfinite(v) or v != int(v)):
        raise UserError(f"{path}:{line}: {name} must be an integer node id, got {text!r}")
    if not math.isfinite(v):
        raise UserError(f"{path}:{line}: {name} must be finite, got {text!r}")
    return v


def _in_time_order(path: Path, sort: bool, lines: list[int], t: list[float], *cols: list):
    """``(lines, t, *cols)`` stable-sorted by time when ``sort``, else checked to be in time
    order already (the error names the file line of the first event out of order)."""
    if not sort:
        for i in range(1, len(t)):
            if t[i] < t[i - 1]:
                raise UserError(
                    f"{path}:{lines[i]}: events out of time order "
                    f"(t={t[i]} < previous t={t[i - 1]}); pass sort=True (CLI --sort) to stable-sort"
                )
        return (lines, t, *cols)
    order = sorted(range(len(t)), key=t.__getitem__)
    return tuple([xs[i] for i in order] for xs in (lines, t, *cols))


def read_events(
    path: str | Path,
    format: str = "auto",
    *,
    sort: bool = False,
    num_nodes: int | None = None,
    bipartite: bool | None = None,
) -> EventStream:
    """Read an event file.

    Args:
        path: a CSV file (``src,dst,t[,f...]`` or JODIE ``user,item,timestamp,state_label,f...``)
            or a DyGLib ``ml_<name>.csv`` (its ``ml_<name>.npy`` beside it is read when present).
        format: ``"auto"`` (from the header), ``"csv"``, ``"jodie"``, ``"dyglib"`` or ``"tgb"``.
        sort: stable-sort by time instead of refusing out-of-order events.
        num_nodes: refuse ids ``>= num_nodes`` (default: max id + 1).
        bipartite: override (JODIE/DyGLib files default to bipartite, plain CSV to not).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data: {path} is not a file")
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if format not in FORMATS:
        raise UserError(f"format: {format!r} is not one of {', '.join(FORMATS)}")
    if not rows:
        raise UserError(f"{path}: empty file (expected a header line)")
    header = [h.strip() for h in rows[0]]
    if format == "auto":
        if {"u", "i", "ts"} <= set(header):
            format = "dyglib"
        elif header[:3] == ["user", "item", "timestamp"] or header[:2] == ["user_id", "item_id"]:
            format = "jodie"
        elif {"src", "dst", "t"} <= set(header):
            format = "csv"
        else:
            format = "tgb"
    body = rows[1:]
    if format == "dyglib":
        return _read_dyglib(path, header, body, sort, bipartite)
    if format == "tgb":
        return _read_tgb(path, header, body, sort, num_nodes, bipartite)
    need = ["src", "dst", "t"] if format == "csv" else ["user", "item", "timestamp"]
    if format == "csv":
        missing = [c for c in need if c not in header]
        if missing:
            raise UserError(
                f"{path}: missing column(s) {', '.join(missing)} (header: {','.join(header)})"
            )
        ci = [header.index(c) for c in need]
        fcols = [j for j in range(len(header)) if j not in ci]
    else:
        if len(header) < 3:
            raise UserError(
                f"{path}: missing columns; JODIE files need user,item,timestamp,state_label,f..."
            )
        ci = [0, 1, 2]
        # JODIE's header names one "comma_separated_list_of_features" column; the feature
        # width is that of the first event row, and every row must match it
        first = next((r for r in rows[1:] if r), header)
        fcols = list(range(4, max(len(first), 4)))
    src, dst, t, feats, labels, lines = [], [], [], [], [], []
    for k, row in enumerate(body):
        line = k + 2
        if not row:
            continue
        lines.append(line)
        if format == "csv" and len(row) != len(header):
            raise UserError(
                f"{path}:{line}: expected {len(header)} fields like the header, got {len(row)}"
            )
        if format == "jodie" and len(row) < 3:
            raise UserError(
                f"{path}:{line}: expected at least 3 fields (user,item,timestamp), got {len(row)}"
            )
        src.append(int(_num(row[ci[0]], path, line, need[0], integer=True)))
        dst.append(int(_num(row[ci[1]], path, line, need[1], integer=True)))
        tv = _num(row[ci[2]], path, line, need[2])
        if tv < 0:
            raise UserError(f"{path}:{line}: {need[2]} must be >= 0, got {tv}")
        t.append(tv)
        if format == "jodie" and len(row) - 4 != len(fcols):
            raise UserError(
                f"{path}:{line}: expected {len(fcols)} features like the first line, got {len(row) - 4}"
            )
        feats.append([_num(row[j], path, line, f"feature {j}") for j in fcols])
        labels.append(
            _num(row[3], path, line, "state_label") if format == "jodie" and len(row) > 3 else 0.0
        )
        if src[-1] < 0 or dst[-1] < 0:
            raise UserError(f"{path}:{line}: node ids must be >= 0, got {src[-1]},{dst[-1]}")
        _check_id_size(path, line, max(src[-1], dst[-1]), num_nodes)
    if not t:
        raise UserError(f"{path}: no events after the header")
    lines, t, src, dst, feats, labels = _in_time_order(
        path, sort, lines, t, src, dst, feats, labels
    )
    if num_nodes is not None:
        for line, a, b in zip(lines, src, dst, strict=True):
            if a >= num_nodes or b >= num_nodes:
                raise UserError(
                    f"{path}:{line}: node id must be < num_nodes={num_nodes}, got {max(a, b)}"
                )
    msg = torch.tensor(feats, dtype=torch.float32).reshape(len(t), len(fcols))
    is_bip = format == "jodie" if bipartite is None else bool(bipartite)
    if format == "jodie" and is_bip:  # items get ids after the users
        n_users = max(src) + 1
        dst = [d + n_users for d in dst]
    return EventStream(
        src,
        dst,
        torch.tensor(t, dtype=torch.float64),
        msg,
        num_nodes=num_nodes,
        bipartite=is_bip,  # num_src_nodes defaults to max(src) + 1
        y=torch.tensor(labels) if format == "jodie" else None,
    )


def _check_id_size(path: Path, line: int, node: int, num_nodes: int | None) -> None:
    if num_nodes is not None and node >= num_nodes:
        raise UserError(f"{path}:{line}: node id must be < num_nodes={num_nodes}, got {node}")
    if node >= MAX_NODES:
        raise UserError(
            f"{path}:{line}: node id must be < {MAX_NODES:,} (ids index a node table), got "
            f"{node}; relabel the ids or read the file with --format tgb (any ids)"
        )


def _read_tgb(path: Path, header, body, sort, num_nodes, bipartite) -> EventStream:
    """TGB-style edge list: named source/destination/timestamp columns (see module docstring)."""

    def find(names, role):
        for j, h in enumerate(header):
            if h.lower() in names:
                return j
        raise UserError(
            f"{path}: missing the {role} column (one of {', '.join(names)}); header: {','.join(header)}"
        )

    cs, cd, ct = find(_TGB_SRC, "source"), find(_TGB_DST, "destination"), find(_TGB_T, "timestamp")
    fcols = [j for j in range(len(header)) if j not in (cs, cd, ct)]
    ids: dict[str, int] = {}
    src, dst, t, feats, lines = [], [], [], [], []
    for k, row in enumerate(body):
        line = k + 2
        if not row:
            continue
        if len(row) != len(header):
            raise UserError(
                f"{path}:{line}: expected {len(header)} fields like the header, got {len(row)}"
            )
        lines.append(line)
        a, b = row[cs].strip(), row[cd].strip()
        if not a or not b:
            raise UserError(f"{path}:{line}: empty node id")
        tv = _num(row[ct], path, line, header[ct])
        if tv < 0:
            raise UserError(f"{path}:{line}: {header[ct]} must be >= 0, got {tv}")
        src.append(ids.setdefault(a, len(ids)))
        dst.append(ids.setdefault(b, len(ids)))
        t.append(tv)
        feats.append([_num(row[j], path, line, header[j]) for j in fcols])
    if not t:
        raise UserError(f"{path}: no events after the header")
    lines, t, src, dst, feats = _in_time_order(path, sort, lines, t, src, dst, feats)
    if num_nodes is not None and len(ids) > num_nodes:
        raise UserError(f"{path}: {len(ids)} distinct node ids, more than num_nodes={num_nodes}")
    is_bip = bool(bipartite)
    if is_bip and set(src) & set(dst):
        raise UserError(f"{path}: bipartite: a node id occurs as both source and destination")
    msg = torch.tensor(feats, dtype=torch.float32).reshape(len(t), len(fcols))
    stream_src, stream_dst = torch.tensor(src), torch.tensor(dst)
    if is_bip:  # relabel: sources first, then destinations
        us, ud = torch.unique(stream_src), torch.unique(stream_dst)
        remap = torch.empty(len(ids), dtype=torch.long)
        remap[us] = torch.arange(us.numel())
        remap[ud] = torch.arange(ud.numel()) + us.numel()
        stream_src, stream_dst = remap[stream_src], remap[stream_dst]
        inv = torch.empty(len(ids), dtype=torch.long)
        inv[remap] = torch.arange(len(ids))
        names = list(ids)
        node_ids = [names[int(j)] for j in inv]
    else:
        node_ids = list(ids)
    return EventStream(
        stream_src,
        stream_dst,
        torch.tensor(t, dtype=torch.float64),
        msg,
        num_nodes=num_nodes if num_nodes is not None else len(ids),
        bipartite=is_bip,
        num_src_nodes=int(stream_src.max()) + 1 if is_bip else None,
        meta={"node_ids": node_ids, "format": "tgb"},
    )


def read_temporal_data(path: str | Path, format: str = "auto", **kwargs):
    """:func:`read_events` as PyG ``TemporalData(src, dst, t (float64), msg[, y])``."""
    return read_events(path, format, **kwargs).to_pyg()


def _read_dyglib(path: Path, header, body, sort, bipartite) -> EventStream:
    missing = [c for c in ("u", "i", "ts", "label", "idx") if c not in header]
    if missing:
        raise UserError(
            f"{path}: missing column(s) {', '.join(missing)} (DyGLib ml_<name>.csv needs u,i,ts,label,idx)"
        )
    col = {c: header.index(c) for c in ("u", "i", "ts", "label", "idx")}
    u, i, ts, lab, idx, lines = [], [], [], [], [], []
    for k, row in enumerate(body):
        line = k + 2
        if not row:
            continue
        lines.append(line)
        if len(row) != len(header):
            raise UserError(
                f"{path}:{line}: expected {len(header)} fields like the header, got {len(row)}"
            )
        u.append(int(_num(row[col["u"]], path, line, "u", integer=True)))
        i.append(int(_num(row[col["i"]], path, line, "i", integer=True)))
        ts.append(_num(row[col["ts"]], path, line, "ts"))
        lab.append(_num(row[col["label"]], path, line, "label"))
        idx.append(int(_num(row[col["idx"]], path, line, "idx", integer=True)))
        if u[-1] < 1 or i[-1] < 1:
            raise UserError(f"{path}:{line}: DyGLib ids are 1-based, got u={u[-1]}, i={i[-1]}")
        _check_id_size(path, line, max(u[-1], i[-1]) - 1, None)
    if not ts:
        raise UserError(f"{path}: no events after the header")
    _, ts, u, i, lab, idx = _in_time_order(path, sort, lines, ts, u, i, lab, idx)
    npy = path.with_suffix(".npy")
    if npy.is_file():
        feats = np.load(npy, allow_pickle=False)
        if feats.shape[0] != max(idx) + 1:
            raise UserError(
                f"{npy}: expected {max(idx) + 1} rows (padding row 0 + one per event), got {feats.shape[0]}"
            )
        msg = torch.from_numpy(feats[np.asarray(idx)]).float()
    else:
        msg = torch.zeros(len(ts), 0)
    src = torch.tensor(u) - 1
    dst = torch.tensor(i) - 1
    is_bip = bool(bipartite) if bipartite is not None else bool(int(src.max()) < int(dst.min()))
    return EventStream(
        src,
        dst,
        torch.tensor(ts, dtype=torch.float64),
        msg,
        bipartite=is_bip,
        num_src_nodes=int(src.max()) + 1 if is_bip else None,
        y=torch.tensor(lab),
        num_nodes=int(max(src.max(), dst.max())) + 1,
    )


def write_csv(stream: EventStream, path: str | Path) -> Path:
    """Write ``src,dst,t,f0,...`` (0-based ids) atomically."""
    from papershelf.io import atomic_write_text

    lines = [",".join(["src", "dst", "t"] + [f"f{j}" for j in range(stream.msg_dim)])]
    msg = stream.msg.tolist()
    for k in range(len(stream)):
        t = stream.t[k].item()
        row = [
            str(int(stream.src[k])),
            str(int(stream.dst[k])),
            repr(float(t)) if stream.t.is_floating_point() else str(t),
        ]
        row += [repr(float(v)) for v in msg[k]]
        lines.append(",".join(row))
    return atomic_write_text(Path(path), "\n".join(lines) + "\n")


def write_dyglib(stream: EventStream, folder: str | Path, name: str) -> Path:
    """Write DyGLib's ``ml_<name>.csv`` (1-based ids, idx from 1) and ``ml_<name>.npy``
    (edge features with an all-zero padding row 0). Returns the CSV path."""
    from papershelf.io import atomic_write, atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    y = stream.y if stream.y is not None else torch.zeros(len(stream))
    lines = [",u,i,ts,label,idx"]
    for k in range(len(stream)):
        lines.append(
            f"{k},{int(stream.src[k]) + 1},{int(stream.dst[k]) + 1},{float(stream.t[k])!r},"
            f"{float(y[k])!r},{k + 1}"
        )
    csv_path = atomic_write_text(folder / f"ml_{name}.csv", "\n".join(lines) + "\n")
    feats = np.zeros((len(stream) + 1, stream.msg_dim), dtype=np.float32)
    feats[1:] = stream.msg.numpy()

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, feats)

    atomic_write(folder / f"ml_{name}.npy", save)
    return csv_path
