"""The package's configs: which model to build, and how each model family is trained.

Every config is a :class:`papershelf.config.Config` (validated on construction, JSON round
trips that refuse unknown keys, one-line errors naming the field). Light: no torch import.

- :class:`ModelConfig`: a continuous-time model by name (``dyngraph train --model``); what a
  checkpoint's ``model_config.json`` records to rebuild it.
- :class:`TrainConfig`: training a continuous-time model (``protocol.train_model``).
- :class:`SnapshotTrainConfig`: training a snapshot model (``snapshot_protocol.train_snapshots``).
- :class:`KGTrainConfig`: training a temporal-KG model (``kg_protocol.train_kg``).
"""

from __future__ import annotations

from dataclasses import dataclass

from papershelf.config import Config, check_choice, check_positive, check_range

from dyngraph_survey_models.registry import CT_MODELS

__all__ = [
    "NEGATIVES",
    "SPLIT_PROTOCOLS",
    "KGTrainConfig",
    "ModelConfig",
    "SnapshotTrainConfig",
    "TrainConfig",
]

NEGATIVES = ("random", "historical", "inductive")
SPLIT_PROTOCOLS = ("tgn", "transductive-only")


@dataclass
class ModelConfig(Config):
    """A continuous-time model: ``registry.build_model(model, num_nodes, msg_dim)``.

    Attributes:
        model: one of ``registry.CT_MODELS`` (tgn, jodie, tgat, static, edgebank).
        num_nodes: node ids are ``0..num_nodes-1``.
        msg_dim: width of the edge features (0: none).
        bipartite: sources and destinations are disjoint (recorded with the data it was
            trained on, so ``evaluate`` reads the event file the same way).
    """

    model: str
    num_nodes: int
    msg_dim: int = 0
    bipartite: bool = False

    def validate(self) -> None:
        check_choice("model", self.model, CT_MODELS)
        check_range("num_nodes", self.num_nodes, low=1)
        check_range("msg_dim", self.msg_dim, low=0)


@dataclass
class TrainConfig(Config):
    """Training a continuous-time model on the chronological train split.

    Attributes:
        epochs: passes over the train events (0: only fit the time scale).
        batch_size: events per batch (batches are cut at timestamp boundaries).
        lr: Adam learning rate.
        seed: seeds torch and the training negatives.
        val_every: validation AP every this many epochs (0: never).
        progress: show a progress bar (``None``: on a terminal only).
    """

    epochs: int = 5
    batch_size: int = 200
    lr: float = 1e-3
    seed: int = 0
    val_every: int = 0
    progress: bool | None = None

    def validate(self) -> None:
        check_range("epochs", self.epochs, low=0)
        check_range("batch_size", self.batch_size, low=1)
        check_positive("lr", self.lr)
        check_range("val_every", self.val_every, low=0)


@dataclass
class SnapshotTrainConfig(Config):
    """Training a snapshot model: ``epochs`` full-batch Adam steps of next-snapshot BCE.

    Attributes:
        epochs: passes (one training step each) over the training snapshots.
        lr: Adam learning rate.
        seed: seeds torch and the negative destinations.
    """

    epochs: int = 3
    lr: float = 1e-2
    seed: int = 0

    def validate(self) -> None:
        check_range("epochs", self.epochs, low=0)
        check_positive("lr", self.lr)


@dataclass
class KGTrainConfig(Config):
    """Training a temporal-KG model with 1-vs-``eta`` softmax cross-entropy.

    Attributes:
        epochs: passes over the training facts (a seeded permutation each).
        eta: corrupted tails (and, separately, heads) per fact.
        batch_size: facts per step (the last batch of an epoch may be smaller).
        lr: Adam learning rate.
        seed: seeds torch, the permutations and the corruptions.
    """

    epochs: int = 20
    eta: int = 20
    batch_size: int = 512
    lr: float = 1e-2
    seed: int = 0

    def validate(self) -> None:
        check_range("epochs", self.epochs, low=0)
        check_range("eta", self.eta, low=1)
        check_range("batch_size", self.batch_size, low=1)
        check_positive("lr", self.lr)
