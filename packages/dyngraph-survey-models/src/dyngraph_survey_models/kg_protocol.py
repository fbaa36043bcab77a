"""Training and time-aware filtered evaluation of temporal KG models.

Loss: softmax cross-entropy over 1 positive and η corrupted tails (and, separately, heads).
Evaluation: rank all entities for (s, r, ?, t) and (?, r, o, t); other true facts with the
**same** timestamp are filtered out (facts true at other times stay as negatives); MRR and
Hits@{1,3,10} average the head and tail queries. rank = 1 + #{better} + ½ #{ties}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from papershelf.errors import UserError
from papershelf.train import TrainConfig as LoopConfig
from papershelf.train import train

from dyngraph_survey_models.config import KGTrainConfig
from dyngraph_survey_models.synthetic import TKGData

__all__ = ["KGMetrics", "KGSplit", "evaluate_kg", "random_kg_split", "train_kg"]


@dataclass
class KGSplit:
    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor
    data: TKGData


@dataclass
class KGMetrics:
    mrr: float
    hits: dict[int, float]
    num_queries: int


def random_kg_split(data: TKGData, val: float = 0.1, test: float = 0.1, seed: int = 0) -> KGSplit:
    """Interpolation split: a random 80/10/10 split of the facts; refuses test entities or
    relations unseen in training."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(data.quads.size(0), generator=g)
    n_val, n_test = int(val * perm.numel()), int(test * perm.numel())
    q = data.quads[perm]
    split = KGSplit(q[n_val + n_test :], q[:n_val], q[n_val : n_val + n_test], data)
    seen_e = torch.zeros(data.num_entities, dtype=torch.bool)
    seen_e[split.train[:, 0]] = True
    seen_e[split.train[:, 2]] = True
    seen_r = torch.zeros(data.num_relations, dtype=torch.bool)
    seen_r[split.train[:, 1]] = True
    for name, part in (("val", split.val), ("test", split.test)):
        bad_e = (~seen_e[part[:, 0]] | ~seen_e[part[:, 2]]).nonzero()
        if bad_e.numel():
            row = part[int(bad_e[0])].tolist()
            raise UserError(f"kg split: {name} fact {row} has an entity unseen in training")
        if (~seen_r[part[:, 1]]).any():
            raise UserError(f"kg split: a {name} relation is unseen in training")
    return split


class _ShuffledFacts:
    """The data source of :func:`train_kg`: step -> ``(facts (b, 4), corrupted (b, eta))``.

    Every epoch draws a fresh permutation of the training facts from ``gen`` at its first
    step and walks it in batches of ``batch_size`` (the last one may be smaller); each batch
    then draws its ``eta`` corrupted entities from the same generator, so the draws come in
    the same order as a plain nested loop's.
    """

    def __init__(
        self,
        facts: torch.Tensor,
        num_entities: int,
        eta: int,
        batch_size: int,
        gen: torch.Generator,
    ) -> None:
        self.facts, self.num_entities, self.eta = facts, num_entities, eta
        self.batch_size, self.gen = batch_size, gen
        self.steps_per_epoch = math.ceil(facts.size(0) / batch_size)
        self.perm = torch.empty(0, dtype=torch.long)

    def batch_sizes(self) -> list[int]:
        n, bs = self.facts.size(0), self.batch_size
        return [min(bs, n - i * bs) for i in range(self.steps_per_epoch)]

    def __call__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        i = step % self.steps_per_epoch
        if i == 0:
            self.perm = torch.randperm(self.facts.size(0), generator=self.gen)
        b = self.facts[self.perm[i * self.batch_size : (i + 1) * self.batch_size]]
        neg = torch.randint(0, self.num_entities, (b.size(0), self.eta), generator=self.gen)
        return b, neg


def _corruption_loss(model, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Softmax cross-entropy of the true tail (head) against its corruptions, summed."""
    b, neg = batch
    eta = neg.size(1)
    s, r, o, t = b.unbind(1)
    rep = lambda x: x.view(-1, 1).expand(-1, eta + 1).reshape(-1)  # noqa: E731
    tails = torch.cat([o.view(-1, 1), neg], 1).reshape(-1)
    heads = torch.cat([s.view(-1, 1), neg], 1).reshape(-1)
    lt = model.score(rep(s), rep(r), tails, rep(t)).view(-1, eta + 1)
    lh = model.score(heads, rep(r), rep(o), rep(t)).view(-1, eta + 1)
    zero = torch.zeros(b.size(0), dtype=torch.long)
    return F.cross_entropy(lt, zero) + F.cross_entropy(lh, zero)


def train_kg(
    model,
    split: KGSplit,
    epochs: int = 20,
    eta: int = 20,
    batch_size: int = 512,
    lr: float = 1e-2,
    seed: int = 0,
) -> list[float]:
    """Train with 1-vs-η softmax cross-entropy on corrupted tails and heads; returns epoch
    losses (the mean over the facts). The loop is ``papershelf.train.train`` over the
    callable data source :class:`_ShuffledFacts`; the options are validated as a
    :class:`KGTrainConfig`."""
    config = KGTrainConfig(epochs=epochs, eta=eta, batch_size=batch_size, lr=lr, seed=seed)
    g = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    tr = split.train
    if tr.size(0) == 0:
        raise UserError("kg split: the train part has no facts")
    if config.epochs == 0:
        return []
    data = _ShuffledFacts(tr, split.data.num_entities, config.eta, config.batch_size, g)
    per_epoch = data.steps_per_epoch
    loop = LoopConfig(
        max_steps=config.epochs * per_epoch,
        lr=config.lr,
        optimizer="adam",
        shuffle=False,
        progress=False,
    )
    state = train(model, data, _corruption_loss, loop)
    losses = []
    for e in range(config.epochs):
        total = 0.0
        steps = state.losses[e * per_epoch : (e + 1) * per_epoch]
        for loss, b in zip(steps, data.batch_sizes(), strict=True):
            total += loss * b
        losses.append(total / tr.size(0))
    return losses


def _filtered_ranks(scores: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """scores (B, N), target (B,), mask (B, N) True = another true answer (removed)."""
    pos = scores.gather(1, target.view(-1, 1))
    s = scores.masked_fill(mask, float("-inf"))
    return 1 + (s > pos).sum(1).double() + 0.5 * ((s == pos).sum(1).double() - 1)


@torch.no_grad()
def evaluate_kg(model, split: KGSplit, part: str = "test", batch_size: int = 256) -> KGMetrics:
    """Time-aware filtered MRR / Hits@k over head and tail queries of ``part``."""
    q = split.test if part == "test" else split.val
    allq = split.data.quads
    n = split.data.num_entities
    tails: dict[tuple[int, int, int], list[int]] = {}
    heads: dict[tuple[int, int, int], list[int]] = {}
    for s, r, o, t in allq.tolist():
        tails.setdefault((s, r, t), []).append(o)
        heads.setdefault((r, o, t), []).append(s)
    ranks = []
    for i in range(0, q.size(0), batch_size):
        b = q[i : i + batch_size]
        s, r, o, t = b.unbind(1)
        mt = torch.zeros(b.size(0), n, dtype=torch.bool)
        mh = torch.zeros(b.size(0), n, dtype=torch.bool)
        for j, (sj, rj, oj, tj) in enumerate(b.tolist()):
            mt[j, tails[(sj, rj, tj)]] = True
            mt[j, oj] = False
            mh[j, heads[(rj, oj, tj)]] = True
            mh[j, sj] = False
        ranks.append(_filtered_ranks(model.score_all_tails(s, r, t), o, mt))
        ranks.append(_filtered_ranks(model.score_all_heads(r, o, t), s, mh))
    rk = torch.cat(ranks)
    return KGMetrics(
        float((1 / rk).mean()),
        {h: float((rk <= h).double().mean()) for h in (1, 3, 10)},
        int(rk.numel()),
    )
