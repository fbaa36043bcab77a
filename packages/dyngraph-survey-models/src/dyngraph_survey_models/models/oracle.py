"""The generator oracle: scores a link of a ``drifting_bipartite`` stream by the generator's own
probability of it, given the events observed so far.

For user u at time t with previous item ``last_u`` (if any), the generator picks item i with

``P(i | u, t) = r·1[i = last_u] + (1 - r)·((1 - η)·1[c(i) = c_u(t)] / |C_{c_u(t)}| + η / I)``

(without a previous item the first term is absent and the factor ``1 - r`` is 1), where r =
``repeat_prob``, η = ``noise``, ``c_u(t) = (c_u + ⌊t / drift_period⌋) mod C`` the preferred
community and I the number of items. Scored through the same protocol as the learned models
(same negatives, batches, history), its AP is the headroom a perfect model of this stream has.

The probabilities take few distinct values, and sklearn's AP scores a block of tied scores at
the block's final precision (a pessimistic step), which a learned model with continuous scores
does not suffer; so ties are broken by a seeded uniform jitter of 1e-6 in log-probability
(distinct levels differ by > 0.01), giving the AP of a random order within each tie.
"""

from __future__ import annotations

import math

import torch
from papershelf.errors import UserError

from dyngraph_survey_models.models.base import ContinuousTimeModel

__all__ = ["GeneratorOracle"]


class GeneratorOracle(ContinuousTimeModel):
    """Log-probability scores ``(B,)`` from the generator metadata of a ``drifting_bipartite``
    stream (``stream.meta``); state = each user's last observed item."""

    def __init__(self, meta: dict):
        super().__init__()
        if meta.get("generator") != "drifting_bipartite" or "repeat_prob" not in meta:
            raise UserError("oracle: needs a stream made by drifting_bipartite (its meta)")
        self.num_users = int(meta["num_users"])
        self.num_items = int(meta["num_items"])
        self.C = int(meta["num_communities"])
        self.period = meta["drift_period"]
        self.r, self.noise = float(meta["repeat_prob"]), float(meta["noise"])
        self.user_comm = torch.tensor(meta["user_community"], dtype=torch.long)
        self.item_comm = torch.tensor(meta["item_community"], dtype=torch.long)
        self.comm_size = torch.bincount(self.item_comm, minlength=self.C).to(torch.float64)
        self.gen = torch.Generator()
        self.reset_state()

    def reset_state(self) -> None:
        self.last = torch.full((self.num_users,), -1, dtype=torch.long)
        self.gen.manual_seed(0)

    def score(self, src, dst, t, msg=None):
        item = dst - self.num_users
        shift = (
            torch.zeros_like(src)
            if self.period is None
            else torch.floor(t.to(torch.float64) / self.period).long()
        )
        pref = (self.user_comm[src] + shift) % self.C
        in_pref = (self.item_comm[item] == pref).to(torch.float64)
        fresh = (1 - self.noise) * in_pref / self.comm_size[pref] + self.noise / self.num_items
        last = self.last[src]
        has = (last >= 0).to(torch.float64)
        p = has * (self.r * (item == last).to(torch.float64) + (1 - self.r) * fresh)
        p = p + (1 - has) * fresh
        jitter = 1e-6 * torch.rand(p.shape, generator=self.gen, dtype=torch.float64)
        return torch.log(p.clamp_min(math.ulp(0.0))) + jitter

    def observe(self, src, dst, t, msg):
        pos = torch.full((self.num_users,), -1, dtype=torch.long)
        pos = pos.scatter_reduce(0, src, torch.arange(src.numel()), reduce="amax")
        got = pos >= 0  # the latest event of each user in the batch (events are in time order)
        self.last[got] = dst[pos[got]] - self.num_users
