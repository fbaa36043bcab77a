"""The leak-free evaluation protocol for continuous-time models.

Guarantee: the score of an event in evaluation batch B_k depends only on parameters, node
identities and events with time < min t(B_k). How: batches are cut at timestamp boundaries
(``tie_policy="strict"``: no timestamp spans two batches); each batch is scored first and only
then observed (memory, neighbours, EdgeBank); negatives are drawn from history before the batch
start; ``evaluate`` resets all state, replays the history (train for val, train + val for test)
in eval mode without scoring, then scores. Nothing carries over between calls.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import torch
from papershelf.errors import UserError

from . import metrics as M
from .data import EventStream
from .negatives import NegativeSampler
from .splits import Splits

__all__ = ["EVAL_SEEDS", "Metrics", "batches", "evaluate", "replay"]

EVAL_SEEDS = {("val", False): 0, ("val", True): 1, ("test", False): 2, ("test", True): 3}


@dataclass
class Metrics:
    """Pooled AP and ROC-AUC (one negative per positive), MRR and Hits@{1,3,10} (K negatives),
    and the per-batch mean AP (reported separately, never mixed with the pooled one)."""

    ap: float
    auc: float
    mrr: float
    hits: dict[int, float]
    batch_ap: float
    num_events: int
    k: int
    negatives: str
    scores: dict[str, torch.Tensor] | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("scores")
        d["hits"] = {str(k): v for k, v in self.hits.items()}
        return d


def batches(stream: EventStream, batch_size: int, tie_policy: str = "strict") -> Iterator[slice]:
    """Consecutive event slices of about ``batch_size``. ``"strict"`` extends a batch so that no
    timestamp spans two batches; ``"loose"`` cuts fixed slices (PyG ``TemporalDataLoader``) and
    warns, since a tie across a cut lets a prediction see an event at its own time."""
    if batch_size < 1:
        raise UserError(f"batch_size: must be >= 1, got {batch_size}")
    if tie_policy not in ("strict", "loose"):
        raise UserError(f"tie_policy: {tie_policy!r} is not one of strict, loose")
    n = len(stream)
    t = stream.t
    if tie_policy == "loose":
        warnings.warn(
            "tie_policy='loose': batches may split a timestamp (possible leakage)", stacklevel=2
        )
    start = 0
    while start < n:
        end = min(start + batch_size, n)
        if tie_policy == "strict":
            while end < n and t[end] == t[end - 1]:
                end += 1
        yield slice(start, end)
        start = end


@torch.no_grad()
def replay(model, stream: EventStream, batch_size: int = 200) -> None:
    """Feed events to ``model.observe`` in time order without scoring them."""
    for sl in batches(stream, batch_size):
        model.observe(stream.src[sl], stream.dst[sl], stream.t[sl], stream.msg[sl])


@torch.no_grad()
def evaluate(
    model,
    splits: Splits,
    split: str = "test",
    negatives: str = "random",
    k: int = 20,
    batch_size: int = 200,
    inductive: bool = False,
    seed: int | None = None,
    return_scores: bool = False,
) -> Metrics:
    """Evaluate a continuous-time model on ``split`` ("val" or "test").

    The model is reset, replays the history, then for each batch of the split: draws negatives
    (fixed seed per split/setting: val 0, new-node val 1, test 2, new-node test 3), scores the
    positives and K negatives, and observes the batch. With ``inductive=True`` only events with
    a new-node endpoint are scored, but every event of the split is observed in order.

    Returns:
        :class:`Metrics`; with ``return_scores`` also ``scores = {"pos": (P,), "neg": (P, K),
        "event": (P,) indices into the split}``.
    """
    part = splits.part(split, inductive=False)
    if len(part) == 0:
        raise UserError(f"split: the {split} part has no events")
    scored = torch.ones(len(part), dtype=torch.bool)
    if inductive:
        sub = splits.part(split, inductive=True)
        if len(sub) == 0:
            raise UserError(f"inductive: no {split} event touches a new node")
        keys = part.src * part.num_nodes + part.dst
        sub_keys = set(
            zip((sub.src * sub.num_nodes + sub.dst).tolist(), sub.t.tolist(), strict=True)
        )
        scored = torch.tensor(
            [(kk, tt) in sub_keys for kk, tt in zip(keys.tolist(), part.t.tolist(), strict=True)]
        )
    was_training = model.training
    model.eval()
    model.reset_state()
    replay(model, splits.history_before(split), batch_size)
    sampler = NegativeSampler(
        negatives,
        splits.full,
        last_observed_time=splits.val_time,
        seed=EVAL_SEEDS[(split, inductive)] if seed is None else seed,
    )
    pos_all, neg_all, ev_all, batch_aps = [], [], [], []
    for sl in batches(part, batch_size):
        src, dst, t, msg = part.src[sl], part.dst[sl], part.t[sl], part.msg[sl]
        m = scored[sl]
        if m.any():
            s, d, tb = src[m], dst[m], t[m]
            ns, nd = sampler.sample(s, d, float(t[0]), float(t[-1]), k=k)
            b = s.numel()
            logits = model.score(
                torch.cat([s, ns.reshape(-1)]),
                torch.cat([d, nd.reshape(-1)]),
                torch.cat([tb, tb.repeat_interleave(k)]),
            ).float()
            pos, neg = logits[:b], logits[b:].view(b, k)
            pos_all.append(pos)
            neg_all.append(neg)
            ev_all.append(torch.arange(sl.start, sl.stop)[m])
            lab = torch.cat([torch.ones(b), torch.zeros(b)])
            batch_aps.append(M.average_precision(torch.cat([pos, neg[:, 0]]), lab))
        model.observe(src, dst, t, msg)
    model.train(was_training)
    pos, neg = torch.cat(pos_all), torch.cat(neg_all)
    labels = torch.cat([torch.ones(pos.numel()), torch.zeros(pos.numel())])
    flat = torch.cat([pos, neg[:, 0]])
    return Metrics(
        ap=M.average_precision(flat, labels),
        auc=M.roc_auc(flat, labels),
        mrr=M.mrr(pos, neg),
        hits={h: M.hits_at(pos, neg, h) for h in (1, 3, 10)},
        batch_ap=float(sum(batch_aps) / len(batch_aps)),
        num_events=int(pos.numel()),
        k=k,
        negatives=negatives,
        scores={"pos": pos, "neg": neg, "event": torch.cat(ev_all)} if return_scores else None,
    )
