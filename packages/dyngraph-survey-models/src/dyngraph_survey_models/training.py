"""Training continuous-time models on the chronological train split.

Each epoch resets the state and walks the train events in time order (batches cut at timestamp
boundaries): score the batch's positives and one random negative each (drawn from the train
destinations, so held-out new nodes stay unseen), BCE loss, then observe the batch, backward,
step and detach the state — the order of PyG's ``examples/tgn.py``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from papershelf.errors import UserError

from .negatives import NegativeSampler
from .protocol import batches, evaluate
from .splits import Splits

__all__ = ["TrainConfig", "TrainHistory", "train_model"]


@dataclass
class TrainConfig:
    """epochs, batch_size (events), lr, seed; ``val_every`` epochs (0 = never) runs validation."""

    epochs: int = 5
    batch_size: int = 200
    lr: float = 1e-3
    seed: int = 0
    val_every: int = 0
    progress: bool | None = None

    def __post_init__(self) -> None:
        if self.epochs < 0:
            raise UserError(f"epochs: must be >= 0, got {self.epochs}")
        if self.batch_size < 1:
            raise UserError(f"batch_size: must be >= 1, got {self.batch_size}")
        if not self.lr > 0:
            raise UserError(f"lr: must be > 0, got {self.lr}")


@dataclass
class TrainHistory:
    losses: list[float] = field(default_factory=list)
    val_ap: list[float] = field(default_factory=list)
    events_per_s: float = 0.0


def train_model(model, splits: Splits, config: TrainConfig | None = None) -> TrainHistory:
    """Fit ``model`` on ``splits.train``; returns per-epoch mean losses (and val AP)."""
    import time

    from tqdm.auto import tqdm

    config = config or TrainConfig()
    torch.manual_seed(config.seed)
    train = splits.train
    if len(train) == 0:
        raise UserError("split: the train part has no events")
    model.fit_time_scale(train.src, train.dst, train.t)
    hist = TrainHistory()
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return hist
    opt = torch.optim.Adam(params, lr=config.lr)
    train_dst = torch.unique(train.dst)
    sampler = NegativeSampler("random", splits.full, seed=config.seed, candidates=train_dst)
    progress = sys.stderr.isatty() if config.progress is None else config.progress
    n_events, elapsed = 0, 0.0
    bar = tqdm(range(config.epochs), desc="epochs", disable=not progress)
    for epoch in bar:
        model.train()
        model.reset_state()
        total, count = 0.0, 0
        start = time.perf_counter()
        for sl in batches(train, config.batch_size):
            src, dst, t, msg = train.src[sl], train.dst[sl], train.t[sl], train.msg[sl]
            _, neg = sampler.sample(src, dst, float(t[0]), k=1)
            opt.zero_grad()
            b = src.numel()
            logits = model.score(
                torch.cat([src, src]), torch.cat([dst, neg[:, 0]]), torch.cat([t, t]), None
            )
            target = torch.cat([torch.ones(b), torch.zeros(b)])
            loss = F.binary_cross_entropy_with_logits(logits, target)
            model.observe(src, dst, t, msg)
            loss.backward()
            opt.step()
            model.detach_state()
            if not math.isfinite(loss.item()):
                raise UserError(
                    f"training: the loss became {loss.item()} at epoch {epoch}; lower lr"
                )
            total += loss.item() * b
            count += b
        elapsed += time.perf_counter() - start
        n_events += count
        hist.losses.append(total / count)
        if config.val_every and (epoch + 1) % config.val_every == 0:
            hist.val_ap.append(evaluate(model, splits, "val").ap)
        bar.set_postfix(loss=f"{hist.losses[-1]:.4f}")
    hist.events_per_s = n_events / elapsed if elapsed > 0 else 0.0
    return hist
