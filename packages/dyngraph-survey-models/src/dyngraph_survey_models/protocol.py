"""The protocol for continuous-time models: chronological training and leak-free evaluation.

Training (:func:`train_model`): each epoch resets the state and walks the train events in time
order (batches cut at timestamp boundaries): score the batch's positives and one random negative
each (drawn from the train destinations, so held-out new nodes stay unseen), BCE loss, then
observe the batch, backward, step and detach the state — the order of PyG's
``examples/tgn.py``. The loop is :func:`papershelf.train.train` with a callable data source
(batch ``s`` is batch ``s mod B`` of the epoch, in time order, never shuffled) and the
:class:`ChronologicalEpochs` hook (state reset at each epoch start, detach after each step).

Evaluation guarantee: the score of an event in evaluation batch B_k depends only on
parameters, node identities and events with time < min t(B_k). How: batches are cut at
timestamp boundaries (``tie_policy="strict"``: no timestamp spans two batches); each batch is
scored first and only then observed (memory, neighbours, EdgeBank); negatives are drawn from
history before the batch start; ``evaluate`` resets all state, replays the history (train for
val, train + val for test) in eval mode without scoring, then scores. Nothing carries over
between calls.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from papershelf.metrics import average_precision, roc_auc
from papershelf.train import Hook, TrainingDiverged, TrainState, train
from papershelf.train import TrainConfig as LoopConfig

from dyngraph_survey_models.config import TrainConfig
from dyngraph_survey_models.data import EventStream
from dyngraph_survey_models.metrics import hits_at, mrr
from dyngraph_survey_models.negatives import NegativeSampler
from dyngraph_survey_models.splits import Splits

__all__ = [
    "EVAL_SEEDS",
    "ChronologicalEpochs",
    "Metrics",
    "TrainHistory",
    "batches",
    "eval_sampler",
    "evaluate",
    "history_end",
    "replay",
    "train_model",
]

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


def history_end(splits: Splits, split: str) -> float:
    """The end of the history a model has seen before scoring ``split`` (DyGLib's
    ``last_observed_time``): the end of training (``val_time``) for val, the end of validation
    (``test_time``) for test. Inductive negatives are edges seen before a batch but not by
    this time."""
    if split == "val":
        return splits.val_time
    if split == "test":
        return splits.test_time
    raise UserError(f"split: {split!r} is not one of val, test")


def eval_sampler(
    splits: Splits, split: str, negatives: str, inductive: bool = False, seed: int | None = None
) -> NegativeSampler:
    """The negative sampler :func:`evaluate` uses for ``split``: drawn over the full stream,
    end of history :func:`history_end`, fixed seed :data:`EVAL_SEEDS` unless ``seed`` is given."""
    return NegativeSampler(
        negatives,
        splits.full,
        last_observed_time=history_end(splits, split),
        seed=EVAL_SEEDS[(split, inductive)] if seed is None else seed,
    )


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
    (fixed seed per split/setting: val 0, new-node val 1, test 2, new-node test 3; historical
    and inductive pools exclude every edge of the batch window, and the end of history is
    :func:`history_end`, as DyGLib), scores the
    positives and K negatives, and observes the batch. With ``inductive=True`` only events with
    a new-node endpoint are scored, but every event of the split is observed in order.

    Returns:
        :class:`Metrics`; with ``return_scores`` also ``scores = {"pos": (P,), "neg": (P, K),
        "event": (P,) indices into the split}``.
    """
    if not isinstance(k, int) or k < 1:
        raise UserError(f"k: must be an integer >= 1 (negatives per positive), got {k}")
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
    sampler = eval_sampler(splits, split, negatives, inductive, seed)
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
            batch_aps.append(average_precision(lab, torch.cat([pos, neg[:, 0]])))
        model.observe(src, dst, t, msg)
    model.train(was_training)
    pos, neg = torch.cat(pos_all), torch.cat(neg_all)
    labels = torch.cat([torch.ones(pos.numel()), torch.zeros(pos.numel())])
    flat = torch.cat([pos, neg[:, 0]])
    return Metrics(
        ap=average_precision(labels, flat),
        auc=roc_auc(labels, flat),
        mrr=mrr(pos, neg),
        hits={h: hits_at(pos, neg, h) for h in (1, 3, 10)},
        batch_ap=float(sum(batch_aps) / len(batch_aps)),
        num_events=int(pos.numel()),
        k=k,
        negatives=negatives,
        scores={"pos": pos, "neg": neg, "event": torch.cat(ev_all)} if return_scores else None,
    )


@dataclass
class TrainHistory:
    """What :func:`train_model` measured: the mean loss of every epoch (over its events),
    the validation AP every ``val_every`` epochs, and train events per second."""

    losses: list[float] = field(default_factory=list)
    val_ap: list[float] = field(default_factory=list)
    events_per_s: float = 0.0


class ChronologicalEpochs(Hook):
    """Epochs of a stateful model in time order, as a :class:`papershelf.train.Hook`.

    Step ``s`` trains on batch ``s mod steps_per_epoch`` of an epoch. At the first step of
    every epoch the model's state (memory, neighbours) is reset; after every training step the
    state is detached from the graph. Also times the epochs (validation excluded) and, when
    ``validate`` is given, calls it after every ``validate_every`` epochs, keeping its results
    in ``val``.

    Validation runs here rather than as the loop's ``evaluate``: the loop switches the model to
    ``eval()`` outside ``no_grad``, and PyG's ``TGNMemory`` flushes its message store on that
    switch, which would then record an autograd graph that leaks into the next epoch's
    gradients. ``protocol.evaluate`` switches modes under ``no_grad`` itself.
    """

    def __init__(
        self,
        steps_per_epoch: int,
        validate: Callable[[Any], float] | None = None,
        validate_every: int = 0,
    ) -> None:
        self.steps_per_epoch = steps_per_epoch
        self.validate, self.validate_every = validate, validate_every
        self.epoch = 0
        self.seconds = 0.0
        self.val: list[float] = []
        self._start = 0.0

    def on_step_start(self, state: TrainState) -> None:
        self.epoch = state.step // self.steps_per_epoch
        if state.step % self.steps_per_epoch == 0:
            state.model.reset_state()
            self._start = time.perf_counter()

    def on_step_end(self, state: TrainState) -> None:
        state.model.detach_state()
        if state.step % self.steps_per_epoch:
            return
        self.seconds += time.perf_counter() - self._start
        epochs_done = state.step // self.steps_per_epoch
        if self.validate is not None and epochs_done % self.validate_every == 0:
            self.val.append(self.validate(state.model))


def train_model(model, splits: Splits, config: TrainConfig | None = None) -> TrainHistory:
    """Fit ``model`` on ``splits.train`` (see the module docstring); returns per-epoch mean
    losses (and val AP every ``config.val_every`` epochs).

    A model without trainable parameters (EdgeBank) only gets its time scale fitted.

    Raises:
        UserError: the train part has no events.
        TrainingDiverged: the loss became NaN/inf.
    """
    config = config or TrainConfig()
    torch.manual_seed(config.seed)
    part = splits.train
    if len(part) == 0:
        raise UserError("split: the train part has no events")
    model.fit_time_scale(part.src, part.dst, part.t)
    hist = TrainHistory()
    if config.epochs == 0 or not any(p.requires_grad for p in model.parameters()):
        return hist
    sampler = NegativeSampler(
        "random", splits.full, seed=config.seed, candidates=torch.unique(part.dst)
    )
    slices = list(batches(part, config.batch_size))
    sizes = [sl.stop - sl.start for sl in slices]
    per_epoch = len(slices)

    def next_batch(step: int):
        """Batch ``step`` in time order, with one random training negative per event."""
        sl = slices[step % per_epoch]
        src, dst, t, msg = part.src[sl], part.dst[sl], part.t[sl], part.msg[sl]
        _, neg = sampler.sample(src, dst, float(t[0]), k=1)
        return src, dst, t, msg, neg[:, 0]

    def loss_fn(model, batch) -> torch.Tensor:
        src, dst, t, msg, neg = batch
        b = src.numel()
        logits = model.score(torch.cat([src, src]), torch.cat([dst, neg]), torch.cat([t, t]), None)
        target = torch.cat([torch.ones(b), torch.zeros(b)])
        loss = F.binary_cross_entropy_with_logits(logits, target)
        model.observe(src, dst, t, msg)  # after scoring, before the step (PyG's order)
        return loss

    validate = (lambda m: evaluate(m, splits, "val").ap) if config.val_every else None
    epochs = ChronologicalEpochs(per_epoch, validate, config.val_every)
    loop = LoopConfig(
        max_steps=config.epochs * per_epoch,
        lr=config.lr,
        optimizer="adam",
        shuffle=False,
        progress=True if config.progress is None else config.progress,
    )
    try:
        state = train(model, next_batch, loss_fn, loop, hooks=[epochs])
    except TrainingDiverged:
        raise TrainingDiverged(
            f"training: the loss became NaN or infinite at epoch {epochs.epoch}; "
            f"lower lr (now {config.lr})"
        ) from None
    for e in range(config.epochs):
        total = 0.0
        for loss, b in zip(state.losses[e * per_epoch : (e + 1) * per_epoch], sizes, strict=True):
            total += loss * b
        hist.losses.append(total / sum(sizes))
    hist.val_ap = epochs.val
    hist.events_per_s = config.epochs * sum(sizes) / epochs.seconds if epochs.seconds > 0 else 0.0
    return hist
