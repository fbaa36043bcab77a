"""``dyngraph bench``: training speed per model, as a ratio to PyG's reference TGN setup.

Baseline = the training loop of PyG's ``examples/tgn.py`` (TGNMemory + TransformerConv
embedding + link predictor, memory/time/embedding dims 100, batch 200), written here from PyG's
public modules, on the same stream. Every row is one training epoch over the train events;
``events/s`` = train events / median epoch time. Snapshot rows time one forward + backward
over 10 snapshots of N nodes. Runs on 1 torch thread (``Paper(bench_threads=1)``).
"""

from __future__ import annotations

from papershelf.bench import BenchReport, compare, growth_notes

__all__ = ["run"]


def _pyg_reference_epoch(stream, train_n: int):
    """A closure running one epoch of PyG's examples/tgn.py training loop (each batch one
    ``papershelf.train.training_step``)."""
    import torch
    import torch.nn.functional as F
    from papershelf.train import training_step
    from torch_geometric.data import TemporalData
    from torch_geometric.loader import TemporalDataLoader
    from torch_geometric.nn import TransformerConv
    from torch_geometric.nn.models.tgn import (
        IdentityMessage,
        LastAggregator,
        LastNeighborLoader,
        TGNMemory,
    )

    data = TemporalData(
        src=stream.src[:train_n],
        dst=stream.dst[:train_n],
        t=stream.t[:train_n].round().long(),
        msg=stream.msg[:train_n],
    )
    n, d, msg_dim = stream.num_nodes, 100, stream.msg_dim
    memory = TGNMemory(n, msg_dim, d, d, IdentityMessage(msg_dim, d, d), LastAggregator())
    conv = TransformerConv(d, d // 2, heads=2, dropout=0.1, edge_dim=msg_dim + d)
    lin_src, lin_dst, lin_out = torch.nn.Linear(d, d), torch.nn.Linear(d, d), torch.nn.Linear(d, 1)
    mods = torch.nn.ModuleList([memory, conv, lin_src, lin_dst, lin_out])
    opt = torch.optim.Adam(mods.parameters(), lr=1e-4)
    neighbors = LastNeighborLoader(n, size=10)
    assoc = torch.empty(n, dtype=torch.long)
    lo, hi = int(data.dst.min()), int(data.dst.max())
    loader = TemporalDataLoader(data, batch_size=200)

    def pred(a, b):
        return lin_out((lin_src(a) + lin_dst(b)).relu()).squeeze(-1)

    def loss_fn(_mods, batch):
        src, dst, t, msg = batch.src, batch.dst, batch.t, batch.msg
        neg = torch.randint(lo, hi + 1, (src.size(0),))
        n_id = torch.cat([src, dst, neg]).unique()
        n_id, edge_index, e_id = neighbors(n_id)
        assoc[n_id] = torch.arange(n_id.size(0))
        z, last_update = memory(n_id)
        rel_t = (last_update[edge_index[0]] - data.t[e_id]).to(z.dtype)
        z = conv(z, edge_index, torch.cat([memory.time_enc(rel_t), data.msg[e_id]], -1))
        pos, ng = pred(z[assoc[src]], z[assoc[dst]]), pred(z[assoc[src]], z[assoc[neg]])
        loss = F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
        loss = loss + F.binary_cross_entropy_with_logits(ng, torch.zeros_like(ng))
        memory.update_state(src, dst, t, msg)
        neighbors.insert(src, dst)
        return loss

    step = training_step(mods, loss_fn, opt)

    def epoch():
        mods.train()
        memory.reset_state()
        neighbors.reset_state()
        for batch in loader:
            step(batch)  # forward, backward, Adam step, zero grad
            memory.detach()

    return epoch


def _our_epoch(model, splits, batch_size: int = 200):
    from dyngraph_survey_models.config import TrainConfig
    from dyngraph_survey_models.protocol import train_model

    def epoch():
        train_model(
            model, splits, TrainConfig(epochs=1, batch_size=batch_size, lr=1e-4, progress=False)
        )

    return epoch


def _snapshot_step(model, snaps):
    """One SGD step of a snapshot encoder (forward over ``snaps``, backward, step)."""
    import torch
    from papershelf.train import training_step

    step = training_step(
        model, lambda m, s: m(s)[0].square().mean(), torch.optim.SGD(model.parameters(), lr=1e-3)
    )
    return lambda: step(snaps)


def _growth(sizes, warmup: int = 1, repeats: int = 2) -> list:
    """One TGN training epoch (ours and PyG's loop, dims 100) on streams of ``sizes`` events
    (70 % train), round-robin: how the cost grows with the events (with
    memory, neighbour lists and the event buffer all growing)."""
    from dyngraph_survey_models.models import TGN
    from dyngraph_survey_models.splits import chronological_split
    from dyngraph_survey_models.synthetic import drifting_bipartite

    rows = []
    for size in sizes:
        stream = drifting_bipartite(
            num_users=1000, num_items=1000, num_events=size, msg_dim=4, seed=0
        )
        splits = chronological_split(stream, protocol="transductive-only")
        n, e_train = stream.num_nodes, len(splits.train)
        cases = {
            "growth: pyg-reference TGN": _pyg_reference_epoch(stream, e_train),
            "growth: TGN (dims 100)": _our_epoch(
                TGN(n, 4, memory_dim=100, time_dim=100, embedding_dim=100), splits
            ),
        }
        grow = compare(
            cases,
            baseline="growth: pyg-reference TGN",
            params={"events": size, "train_events": e_train},
            warmup=warmup,
            repeats=repeats,
            round_robin=True,
        )
        for r in grow:
            r.params["events_per_s"] = round(e_train / r.median_s)
        rows.extend(grow)
    return rows


def run(quick: bool = True) -> BenchReport:
    import torch

    from dyngraph_survey_models.models import JODIE, TGAT, TGN, EdgeBank, StaticEmbedding
    from dyngraph_survey_models.models.dysat import DySAT
    from dyngraph_survey_models.models.snapshot import EvolveGCNH, EvolveGCNO, GConvGRU
    from dyngraph_survey_models.protocol import replay
    from dyngraph_survey_models.splits import chronological_split
    from dyngraph_survey_models.synthetic import drifting_bipartite

    torch.manual_seed(0)
    events = 5_000 if quick else 50_000
    reps = {"warmup": 1, "repeats": 3} if quick else {"warmup": 2, "repeats": 7}
    stream = drifting_bipartite(num_events=events, msg_dim=4, seed=0)
    splits = chronological_split(stream, protocol="transductive-only")
    n, e_train = stream.num_nodes, len(splits.train)
    eb = EdgeBank(n)
    cases = {
        "pyg-reference TGN (dims 100)": _pyg_reference_epoch(stream, e_train),
        "TGN (dims 100)": _our_epoch(
            TGN(n, 4, memory_dim=100, time_dim=100, embedding_dim=100), splits
        ),
        "TGN (quick dims 32/16/32)": _our_epoch(TGN(n, 4), splits),
        "JODIE": _our_epoch(JODIE(n, 4), splits),
        "TGAT (2 layers, 10 uniform neighbours)": _our_epoch(TGAT(n, 4), splits),
        "StaticEmbedding": _our_epoch(StaticEmbedding(n), splits),
        "EdgeBank (observe only)": lambda: (eb.reset_state(), replay(eb, splits.train)),
    }
    rows = compare(
        cases, baseline="pyg-reference TGN (dims 100)", params={"train_events": e_train}, **reps
    )
    for r in rows:
        r.params["events_per_s"] = round(e_train / r.median_s)
    sizes = (1_000,) if quick else (1_000, 10_000)
    for size in sizes:
        g = torch.Generator().manual_seed(size)
        from torch_geometric.data import Data

        snaps = [
            Data(edge_index=torch.randint(0, size, (2, 5 * size), generator=g), num_nodes=size)
            for _ in range(10)
        ]
        snap_cases = {
            "GConvGRU": _snapshot_step(GConvGRU(size, 32, 32), snaps),
            "EvolveGCN-O": _snapshot_step(EvolveGCNO(size, 32), snaps),
            "EvolveGCN-H": _snapshot_step(EvolveGCNH(size, 32), snaps),
            "DySAT": _snapshot_step(DySAT(size, 32, 32), snaps),
        }
        srows = compare(
            snap_cases, baseline="GConvGRU", params={"num_nodes": size, "snapshots": 10}, **reps
        )
        for r in srows:
            r.params["ms_per_snapshot"] = round(1000 * r.median_s / 10, 2)
        rows.extend(srows)
    growth = (
        _growth((4_000, 16_000), warmup=0, repeats=2)
        if quick
        else _growth((10_000, 100_000, 1_000_000))
    )
    rows.extend(growth)
    notes = [
        f"drifting_bipartite, {events} events (train {e_train}), 4 random edge features, batch 200, 1 torch thread",
        "first block: one training epoch, ratio to PyG's examples/tgn.py loop on the same data",
        "second block: forward+backward over 10 snapshots (5N random edges each), ratio to GConvGRU",
        "growth block: one TGN epoch vs events (1000 users x 1000 items), ratio to PyG's loop at each size",
        *growth_notes(growth, "events"),
    ]
    return BenchReport(
        "dyngraph: training speed", rows, baseline="pyg-reference TGN (dims 100)", notes=notes
    )
