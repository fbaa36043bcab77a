"""Link prediction with snapshot encoders: snapshot k+1 is predicted from snapshots 0..k.

Training (``objective="next_snapshot"``): ``Z = encoder.encode(snaps[:k_train])``; for every
k < k_train - 1, BCE of the decoder on the links of snapshot k+1 against random destinations,
using ``Z[k]``. Evaluation: for every test snapshot k, ``Z[k-1]`` from snapshots < k scores the
links of snapshot k against K random destinations (seeded) -> AP/AUC (one negative each), MRR.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from papershelf.metrics import average_precision, roc_auc
from papershelf.train import TrainConfig as LoopConfig
from papershelf.train import train

from dyngraph_survey_models.config import SnapshotTrainConfig
from dyngraph_survey_models.decoders import LinkDecoder
from dyngraph_survey_models.metrics import mrr
from dyngraph_survey_models.negatives import random_destinations
from dyngraph_survey_models.protocol import batches

__all__ = [
    "SnapshotLinkModel",
    "evaluate_snapshots",
    "score_events_from_snapshots",
    "train_snapshots",
]


class SnapshotLinkModel(torch.nn.Module):
    """A snapshot encoder plus a link decoder on its output width ``dim``."""

    def __init__(self, encoder: torch.nn.Module, dim: int, decoder: str = "mlp"):
        super().__init__()
        self.encoder = encoder
        self.decoder = LinkDecoder(decoder, dim)


def _link_metrics(pos: torch.Tensor, neg: torch.Tensor) -> dict:
    """Pooled AP and AUC (one negative per positive: column 0) and MRR over ``neg (P, K)``."""
    lab = torch.cat([torch.ones(pos.numel()), torch.zeros(pos.numel())])
    flat = torch.cat([pos, neg[:, 0]])
    return {
        "ap": average_precision(lab, flat),
        "auc": roc_auc(lab, flat),
        "mrr": mrr(pos, neg),
    }


def train_snapshots(
    model: SnapshotLinkModel,
    snapshots: Sequence,
    candidates: torch.Tensor,
    epochs: int = 3,
    lr: float = 1e-2,
    seed: int = 0,
) -> list[float]:
    """Fit on ``snapshots`` (the training snapshots only); returns epoch losses.

    Each epoch is one full-batch Adam step (``papershelf.train.train`` with a callable data
    source): encode ``snapshots[:-1]``, then BCE of every next snapshot's links against one
    random destination each; the options are validated as a :class:`SnapshotTrainConfig`.
    """
    config = SnapshotTrainConfig(epochs=epochs, lr=lr, seed=seed)
    if len(snapshots) < 2:
        raise UserError(f"snapshots: training needs at least 2 snapshots, got {len(snapshots)}")
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    if config.epochs == 0:
        return []

    def loss_fn(model: SnapshotLinkModel, _epoch: int) -> torch.Tensor:
        z, _ = model.encoder.encode(snapshots[:-1])
        terms = []
        for k in range(len(snapshots) - 1):
            ei = snapshots[k + 1].edge_index
            if ei.size(1) == 0:
                continue
            neg = random_destinations(candidates, ei[1], 1, gen)[:, 0]
            pos = model.decoder(z[k][ei[0]], z[k][ei[1]])
            ng = model.decoder(z[k][ei[0]], z[k][neg])
            terms.append(
                F.binary_cross_entropy_with_logits(
                    torch.cat([pos, ng]), torch.cat([torch.ones_like(pos), torch.zeros_like(ng)])
                )
            )
        return torch.stack(terms).mean()

    loop = LoopConfig(
        max_steps=config.epochs, lr=config.lr, optimizer="adam", shuffle=False, progress=False
    )
    return train(model, lambda epoch: epoch, loss_fn, loop).losses


@torch.no_grad()
def evaluate_snapshots(
    model: SnapshotLinkModel,
    snapshots: Sequence,
    test_from: int,
    candidates: torch.Tensor,
    k: int = 20,
    seed: int = 2,
) -> dict:
    """Score snapshots ``test_from..T-1``, each from the snapshots before it."""
    if not 1 <= test_from < len(snapshots):
        raise UserError(f"test_from: must be in [1, {len(snapshots) - 1}], got {test_from}")
    gen = torch.Generator().manual_seed(seed)
    z, _ = model.encoder.encode(snapshots[:-1])
    pos_all, neg_all = [], []
    for j in range(test_from, len(snapshots)):
        ei = snapshots[j].edge_index
        if ei.size(1) == 0:
            continue
        neg = random_destinations(candidates, ei[1], k, gen)
        zz = z[j - 1]
        pos_all.append(model.decoder(zz[ei[0]], zz[ei[1]]))
        neg_all.append(model.decoder(zz[ei[0]].unsqueeze(1).expand(-1, k, -1), zz[neg]))
    return _link_metrics(torch.cat(pos_all), torch.cat(neg_all))


@torch.no_grad()
def score_events_from_snapshots(
    model: SnapshotLinkModel,
    snapshots: Sequence,
    window_of_event: torch.Tensor,
    part,
    sampler,
    k: int,
    batch_size: int = 200,
) -> dict:
    """Score the events of ``part`` (an EventStream) with a snapshot model, each event in window
    j from ``Z[j-1]`` (snapshots < j only), against the negatives ``sampler`` draws batch by batch
    exactly as :func:`protocol.evaluate` does — so a snapshot model and a continuous-time model
    see the same positives and negatives. ``window_of_event (len(part),)`` is each event's window."""
    z, _ = model.encoder.encode(snapshots[:-1])
    pos_all, neg_all = [], []
    for sl in batches(part, batch_size):
        src, dst, t = part.src[sl], part.dst[sl], part.t[sl]
        ns, nd = sampler.sample(src, dst, float(t[0]), float(t[-1]), k=k)
        w = window_of_event[sl] - 1
        if (w < 0).any():
            raise UserError("snapshots: an event falls in the first window, which has no history")
        zz = z[w]  # (B, N, d)
        rows = torch.arange(src.numel())
        pos_all.append(model.decoder(zz[rows, src], zz[rows, dst]))
        r2 = rows.view(-1, 1).expand(-1, k)
        neg_all.append(model.decoder(zz[r2, ns], zz[r2, nd]))
    return _link_metrics(torch.cat(pos_all), torch.cat(neg_all))
