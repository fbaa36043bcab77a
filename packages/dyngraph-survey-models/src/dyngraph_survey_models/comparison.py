"""Train a continuous-time model by name and score it under several negative samplers: the
measurement the claims compare across models (``claims/memory_beats_static.py``,
``claims/negative_sampling.py``)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["fit_and_score"]


def fit_and_score(
    name: str,
    stream,
    splits,
    cfg: Mapping[str, Any],
    seed: int,
    negatives: Sequence[str] = ("random",),
    k: int = 20,
) -> dict[str, Any]:
    """Build model ``name`` (seeded), train it on ``splits.train`` for ``cfg["epochs"]`` epochs
    (``cfg["batch_size"]``, ``cfg["lr"]``), then evaluate it on the test split once per negative
    sampler.

    Returns:
        ``{"train_s", "final_loss", <negatives>: {"ap", "auc", "mrr", "hits@10"}}``.
    """
    import torch

    from dyngraph_survey_models.config import TrainConfig
    from dyngraph_survey_models.protocol import evaluate, train_model
    from dyngraph_survey_models.registry import build_model

    torch.manual_seed(seed)
    model = build_model(name, stream.num_nodes, stream.msg_dim)
    start = time.perf_counter()
    hist = train_model(
        model,
        splits,
        TrainConfig(
            epochs=cfg["epochs"],
            batch_size=cfg["batch_size"],
            lr=cfg["lr"],
            seed=seed,
            progress=False,
        ),
    )
    out: dict[str, Any] = {
        "train_s": round(time.perf_counter() - start, 2),
        "final_loss": hist.losses[-1] if hist.losses else None,
    }
    for neg in negatives:
        m = evaluate(model, splits, "test", negatives=neg, k=k)
        out[neg] = {"ap": m.ap, "auc": m.auc, "mrr": m.mrr, "hits@10": m.hits[10]}
    return out
