"""Seeded synthetic temporal graphs with known structure (for offline claims and tests).

``drifting_bipartite``: users interact with items; items are split evenly into communities;
user u prefers community ``(c_u + floor(t / drift_period)) mod C`` at time t. Each event: with
probability ``repeat_prob`` the user repeats its previous item, else with probability
``1 - noise`` an item of its preferred community, else a uniform item. Inter-arrival times are
Exp(1) (or per-user Poisson rates). The stationary control (``drift_period=None,
repeat_prob=0``) has no temporal structure: links depend only on who the user is.

``periodic_tkg``: a temporal knowledge graph whose periodic relations hold at integer t when
``sin(2 pi t / P_r + phi_{s,r}) > 0``; static relations always hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from papershelf.errors import UserError

from dyngraph_survey_models.data import EventStream

__all__ = ["TKGData", "drifting_bipartite", "periodic_tkg", "stationary_bipartite"]


def drifting_bipartite(
    num_users: int = 100,
    num_items: int = 100,
    num_communities: int = 5,
    num_events: int = 10_000,
    drift_period: float | None = 1_000.0,
    noise: float = 0.2,
    repeat_prob: float = 0.3,
    user_rates: tuple[float, float] | None = None,
    msg_dim: int = 0,
    seed: int = 0,
) -> EventStream:
    """A bipartite event stream whose links depend on recent history (see module docstring).

    Args:
        user_rates: ``(lo, hi)``: each user fires at its own Poisson rate drawn log-uniformly
            from ``[lo, hi]`` (the stream's inter-arrival times then vary by user).
        msg_dim: width of random Gaussian edge features (pure noise).

    Returns:
        An :class:`EventStream` with users ``0..U-1`` and items ``U..U+I-1``; ``meta`` holds
        the ground truth: ``user_community`` (U,), ``item_community`` (I,), ``drift_period``,
        ``kind`` of each event (``"repeat" | "community" | "noise"``) and ``preferred`` (E,).
    """
    for name, v in (("num_users", num_users), ("num_items", num_items), ("num_events", num_events)):
        if v < 1:
            raise UserError(f"{name}: must be >= 1, got {v}")
    if not 1 <= num_communities <= num_items:
        raise UserError(
            f"num_communities: must be in [1, num_items={num_items}], got {num_communities}"
        )
    if not (0 <= noise <= 1 and 0 <= repeat_prob <= 1):
        raise UserError(f"noise and repeat_prob: must be in [0, 1], got {noise}, {repeat_prob}")
    if drift_period is not None and drift_period <= 0:
        raise UserError(f"drift_period: must be > 0 or None, got {drift_period}")
    rng = np.random.default_rng(seed)
    user_comm = rng.integers(0, num_communities, num_users)
    item_comm = np.arange(num_items) % num_communities
    members = [np.flatnonzero(item_comm == c) for c in range(num_communities)]
    if user_rates is None:
        t = np.cumsum(rng.exponential(1.0, num_events))
        users = rng.integers(0, num_users, num_events)
    else:
        lo, hi = user_rates
        if not 0 < lo <= hi:
            raise UserError(f"user_rates: need 0 < lo <= hi, got {user_rates}")
        rates = np.exp(rng.uniform(math.log(lo), math.log(hi), num_users))
        total = rates.sum()
        t = np.cumsum(rng.exponential(1.0 / total, num_events))
        users = rng.choice(num_users, num_events, p=rates / total)
    last = np.full(num_users, -1)
    items = np.empty(num_events, dtype=np.int64)
    kind = np.empty(num_events, dtype=np.int8)
    preferred = np.empty(num_events, dtype=np.int64)
    u_draw = rng.random(num_events)
    n_draw = rng.random(num_events)
    pick = rng.random(num_events)
    for e in range(num_events):
        u = users[e]
        shift = 0 if drift_period is None else int(t[e] // drift_period)
        c = (user_comm[u] + shift) % num_communities
        preferred[e] = c
        if last[u] >= 0 and u_draw[e] < repeat_prob:
            items[e], kind[e] = last[u], 0
        elif n_draw[e] >= noise:
            m = members[c]
            items[e], kind[e] = m[int(pick[e] * len(m))], 1
        else:
            items[e], kind[e] = int(pick[e] * num_items), 2
        last[u] = items[e]
    msg = torch.from_numpy(rng.standard_normal((num_events, msg_dim)).astype(np.float32))
    meta = {
        "generator": "drifting_bipartite",
        "seed": seed,
        "user_community": user_comm.tolist(),
        "item_community": item_comm.tolist(),
        "drift_period": drift_period,
        "num_communities": num_communities,
        "num_users": num_users,
        "num_items": num_items,
        "noise": noise,
        "repeat_prob": repeat_prob,
        "kind": [("repeat", "community", "noise")[k] for k in kind],
        "preferred": preferred.tolist(),
    }
    return EventStream(
        torch.from_numpy(users.astype(np.int64)),
        torch.from_numpy(items + num_users),
        torch.from_numpy(t),
        msg,
        num_nodes=num_users + num_items,
        bipartite=True,
        num_src_nodes=num_users,
        meta=meta,
    )


def stationary_bipartite(**kwargs) -> EventStream:
    """The control without temporal structure: ``drifting_bipartite(drift_period=None, repeat_prob=0)``."""
    kwargs.setdefault("drift_period", None)
    kwargs.setdefault("repeat_prob", 0.0)
    return drifting_bipartite(**kwargs)


@dataclass
class TKGData:
    """Quadruples (s, r, o, t) of a temporal knowledge graph.

    Attributes:
        quads: (F, 4) int64 rows ``(subject, relation, object, timestamp)``.
        num_entities, num_relations, num_timestamps: vocabulary sizes.
        periodic: (R,) bool, which relations are periodic (ground truth).
    """

    quads: torch.Tensor
    num_entities: int
    num_relations: int
    num_timestamps: int
    periodic: torch.Tensor | None = None


def periodic_tkg(
    num_entities: int = 100,
    num_relations: int = 4,
    num_timestamps: int = 40,
    partners: int = 2,
    static_fraction: float = 0.5,
    num_subjects: int | None = None,
    seed: int = 0,
) -> TKGData:
    """A temporal KG whose periodic facts switch on and off (see module docstring).

    Each (s, r) has ``partners`` fixed objects; relation r is static with probability given by
    ``static_fraction`` of the relations (the first ``round(R * static_fraction)``), else
    periodic with period ``P_r`` in [4, 12] and a per-(s, r) phase.
    """
    if num_entities < partners + 1:
        raise UserError(f"num_entities: must exceed partners={partners}, got {num_entities}")
    rng = np.random.default_rng(seed)
    n_static = round(num_relations * static_fraction)
    periodic = np.arange(num_relations) >= n_static
    period = rng.integers(4, 13, num_relations)
    subjects = range(num_subjects or num_entities)
    rows = []
    for s in subjects:
        for r in range(num_relations):
            objs = rng.choice([e for e in range(num_entities) if e != s], partners, replace=False)
            phase = rng.uniform(0, 2 * math.pi)
            for t in range(num_timestamps):
                if not periodic[r] or math.sin(2 * math.pi * t / period[r] + phase) > 0:
                    rows.extend((s, r, int(o), t) for o in objs)
    quads = torch.tensor(rows, dtype=torch.long)
    return TKGData(quads, num_entities, num_relations, num_timestamps, torch.from_numpy(periodic))
