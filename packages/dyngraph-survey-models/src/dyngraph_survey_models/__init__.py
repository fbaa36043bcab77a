"""Representative dynamic-graph models from the survey's taxonomy (Kazemi et al., JMLR 2020),
on PyTorch Geometric, with a leak-free evaluation protocol.

Importing the package is light; each name below is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EventStream": "data",
    "read_events": "data",
    "read_temporal_data": "data",
    "GeneratorOracle": "models.oracle",
    "eval_sampler": "protocol",
    "history_end": "protocol",
    "write_csv": "data",
    "write_dyglib": "data",
    "to_snapshots": "snapshots",
    "from_snapshots": "snapshots",
    "from_networkx": "snapshots",
    "to_networkx": "snapshots",
    "drifting_bipartite": "synthetic",
    "stationary_bipartite": "synthetic",
    "periodic_tkg": "synthetic",
    "TKGData": "synthetic",
    "Splits": "splits",
    "chronological_split": "splits",
    "NegativeSampler": "negatives",
    "Metrics": "protocol",
    "evaluate": "protocol",
    "batches": "protocol",
    "TrainHistory": "protocol",
    "ChronologicalEpochs": "protocol",
    "train_model": "protocol",
    "ModelConfig": "config",
    "TrainConfig": "config",
    "SnapshotTrainConfig": "config",
    "KGTrainConfig": "config",
    "LinkDecoder": "decoders",
    "IntensityDecoder": "decoders",
    "TGATTimeEncoding": "time_encoding",
    "TGN": "models.memory",
    "TGAT": "models.tgat",
    "JODIE": "models.memory",
    "StaticEmbedding": "models.static",
    "EdgeBank": "models.static",
    "GConvGRU": "models.snapshot",
    "EvolveGCNO": "models.snapshot",
    "EvolveGCNH": "models.snapshot",
    "DySAT": "models.dysat",
    "SimplE": "models.kg",
    "DESimplE": "models.kg",
    "TTransE": "models.kg",
    "SnapshotLinkModel": "snapshot_protocol",
    "train_snapshots": "snapshot_protocol",
    "evaluate_snapshots": "snapshot_protocol",
    "random_kg_split": "kg_protocol",
    "train_kg": "kg_protocol",
    "evaluate_kg": "kg_protocol",
    "build_model": "registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
