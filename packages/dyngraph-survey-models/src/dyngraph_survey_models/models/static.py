"""Baselines without time: ``StaticEmbedding`` (learned node embeddings + the same decoder) and
``EdgeBank`` (Poursafaei et al. 2022: score 1 if the pair was seen before, the memorisation floor).
"""

from __future__ import annotations

import torch
from torch import nn

from dyngraph_survey_models.decoders import LinkDecoder
from dyngraph_survey_models.models.base import ContinuousTimeModel

__all__ = ["EdgeBank", "StaticEmbedding"]


class StaticEmbedding(ContinuousTimeModel):
    """``z_v = MLP(E[v])`` and the link decoder; ignores time and history (stateless).

    This is TGN's encoder with memory, neighbours and time encodings removed: the
    "same model without time" baseline.
    """

    def __init__(self, num_nodes: int, embedding_dim: int = 32, decoder: str = "mlp"):
        super().__init__()
        self.identity = nn.Embedding(num_nodes, embedding_dim)
        self.encoder = nn.Sequential(
            nn.Linear(embedding_dim, embedding_dim),
            nn.ReLU(),
            nn.Linear(embedding_dim, embedding_dim),
        )
        self.decoder = LinkDecoder(decoder, embedding_dim)

    def embed(self, nodes: torch.Tensor) -> torch.Tensor:
        """(B,) -> (B, d)"""
        return self.encoder(self.identity(nodes))

    def score(self, src, dst, t, msg=None):
        return self.decoder(self.embed(src), self.embed(dst))


class EdgeBank(ContinuousTimeModel):
    """1.0 for pairs seen in the observed history (optionally only within ``window`` time
    units before the query), else 0.0. No parameters, no training."""

    def __init__(self, num_nodes: int, window: float | None = None):
        super().__init__()
        self.num_nodes = num_nodes
        self.window = window
        self.reset_state()

    def reset_state(self) -> None:
        self._last_seen: dict[int, float] = {}

    def score(self, src, dst, t, msg=None):
        keys = (src * self.num_nodes + dst).tolist()
        out = torch.zeros(len(keys))
        tq = t.to(torch.float64).tolist()
        for j, k in enumerate(keys):
            seen = self._last_seen.get(k)
            if seen is not None and (self.window is None or tq[j] - seen <= self.window):
                out[j] = 1.0
        return out

    def observe(self, src, dst, t, msg):
        for k, tv in zip(
            (src * self.num_nodes + dst).tolist(), t.to(torch.float64).tolist(), strict=True
        ):
            self._last_seen[k] = tv
