"""Negative edge samplers (DyGLib's definitions, Poursafaei et al. 2022).

- ``random``: keep the positive source; draw the destination uniformly from the destination set
  (bipartite: the items), redrawing any that equals the positive destination.
- ``historical``: draw whole (src, dst) pairs, without replacement (per negative column, so
  column 0 is exactly DyGLib's one-negative draw), from the unique edges seen
  before the batch (t < batch start), minus every edge of the batch window
  (``batch_start <= t <= batch_end`` in the sampler's stream, as DyGLib's
  ``get_unique_edges_between_start_end_time``, plus the given positives); any shortfall is
  filled with random pairs that avoid the batch.
- ``inductive``: the same, from edges seen before the batch that were not observed by the
  end of the history of the split being scored (t <= ``last_observed_time``): DyGLib gives the
  validation samplers the end of training and the test samplers the end of validation
  (``protocol.history_end``).
"""

from __future__ import annotations

import warnings

import torch
from papershelf.errors import UserError

from dyngraph_survey_models.data import EventStream

__all__ = ["STRATEGIES", "NegativeSampler"]

STRATEGIES = ("random", "historical", "inductive")


def random_destinations(
    candidates: torch.Tensor, dst: torch.Tensor, k: int, gen: torch.Generator
) -> torch.Tensor:
    """(B, k) destinations drawn uniformly from ``candidates``, redrawn where equal to the
    positive ``dst (B,)``."""
    m = candidates.numel()
    neg = candidates[torch.randint(0, m, (dst.numel(), k), generator=gen)]
    bad = neg == dst.view(-1, 1)
    while bad.any():
        neg[bad] = candidates[torch.randint(0, m, (int(bad.sum()),), generator=gen)]
        bad = neg == dst.view(-1, 1)
    return neg


class NegativeSampler:
    """Draw negatives for a batch of positives.

    Args:
        strategy: one of :data:`STRATEGIES`.
        stream: the full event stream (history is read from it; the id space and the
            destination set come from it).
        last_observed_time: end of the history before the scored split (for ``inductive``):
            end of training for val, end of validation for test (DyGLib).
        seed: the generator's seed; a fresh sampler with the same seed draws the same negatives.
        candidates: restrict random destinations to these ids (training uses the train
            destinations so held-out new nodes stay unseen).
    """

    def __init__(
        self,
        strategy: str,
        stream: EventStream,
        last_observed_time: float | None = None,
        seed: int = 0,
        candidates: torch.Tensor | None = None,
    ):
        if strategy not in STRATEGIES:
            raise UserError(f"negatives: {strategy!r} is not one of {', '.join(STRATEGIES)}")
        if strategy == "inductive" and last_observed_time is None:
            raise UserError("negatives: 'inductive' needs last_observed_time (the end of training)")
        self.strategy = strategy
        self.stream = stream
        self.last_observed_time = last_observed_time
        self.candidates = stream.dst_candidates() if candidates is None else candidates.long()
        self.src_candidates = (
            torch.arange(stream.num_src_nodes) if stream.bipartite else self.candidates
        )
        self.n = stream.num_nodes
        self._t = stream.t.to(torch.float64)
        self._keys = stream.src * self.n + stream.dst
        self.gen = torch.Generator().manual_seed(seed)
        self._warned = False

    def _random_dst(self, dst: torch.Tensor, k: int) -> torch.Tensor:
        m = self.candidates.numel()
        if k > m - 1:
            raise UserError(
                f"k: {k} negatives need at least {k + 1} candidate destinations, have {m}"
            )
        return random_destinations(self.candidates, dst, k, self.gen)

    def sample(
        self,
        src: torch.Tensor,
        dst: torch.Tensor,
        batch_start: float,
        batch_end: float | None = None,
        k: int = 1,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Negatives for the positives ``(src (B,), dst (B,))`` of a batch spanning
        ``[batch_start, batch_end]`` (``batch_end`` defaults to ``batch_start``). Historical and
        inductive pools exclude every edge of the stream in that window, not only the positives.

        Returns:
            ``(neg_src (B, k), neg_dst (B, k))``.
        """
        b = src.numel()
        if self.strategy == "random":
            return src.view(-1, 1).expand(b, k).clone(), self._random_dst(dst, k)
        start = float(batch_start)
        end = start if batch_end is None else float(batch_end)
        # the stream is in time order: prefix/window positions by binary search
        lo = int(torch.searchsorted(self._t, torch.tensor([start], dtype=torch.float64)))
        hi = int(torch.searchsorted(self._t, torch.tensor([end], dtype=torch.float64), right=True))
        pool = torch.unique(self._keys[:lo])
        if self.strategy == "inductive":
            obs = int(
                torch.searchsorted(
                    self._t,
                    torch.tensor([float(self.last_observed_time)], dtype=torch.float64),
                    right=True,
                )
            )
            pool = pool[~torch.isin(pool, self._keys[:obs])]
        batch_keys = torch.unique(torch.cat([self._keys[lo:hi], src * self.n + dst]))
        pool = pool[~torch.isin(pool, batch_keys)]
        cols = [self._draw(pool, batch_keys, b, batch_start) for _ in range(k)]
        pick = torch.stack(cols, dim=1)  # (B, k): each column is one DyGLib-style draw
        return pick // self.n, pick % self.n

    def _draw(
        self, pool: torch.Tensor, batch_keys: torch.Tensor, need: int, batch_start: float
    ) -> torch.Tensor:
        """``need`` pair keys from ``pool`` without replacement; a shortfall is filled with random
        pairs that avoid the batch (and warned about once)."""
        if pool.numel() >= need:
            return pool[torch.randperm(pool.numel(), generator=self.gen)[:need]]
        if not self._warned:
            warnings.warn(
                f"negatives: only {pool.numel()} {self.strategy} edges before t={batch_start}, "
                f"need {need}; filling with random pairs (as DyGLib does)",
                stacklevel=3,
            )
            self._warned = True
        fill = []
        short = need - pool.numel()
        while short > 0:
            a = self.src_candidates[
                torch.randint(0, self.src_candidates.numel(), (short,), generator=self.gen)
            ]
            c = self.candidates[
                torch.randint(0, self.candidates.numel(), (short,), generator=self.gen)
            ]
            key = a * self.n + c
            ok = ~torch.isin(key, batch_keys) & (a != c)
            fill.append(key[ok][:short])
            short -= int(ok.sum())
        return torch.cat([pool[torch.randperm(pool.numel(), generator=self.gen)], *fill])[:need]
