"""The synthetic retrieval task (needle-in-a-haystack style), its score S, and training."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from bosch.config import TaskConfig, TinyLMConfig

__all__ = ["RetrievalBatch", "make_batch", "retrieval_score", "train_tiny"]


@dataclass
class RetrievalBatch:
    """input_ids: (n, seq) long; answer_start: first scored position (the repeat's start).

    Position t's prediction is the token at t + 1, so targets at positions >= answer_start
    are scored by logits at positions >= answer_start - 1 (teacher forcing).
    """

    input_ids: torch.Tensor
    answer_start: int


def make_batch(task: TaskConfig, n: int, generator: torch.Generator) -> RetrievalBatch:
    """``n`` sequences: keys (random in [0, key_vocab)), local order-2 filler, keys again."""
    kv = task.key_vocab
    keys = torch.randint(0, kv, (n, task.num_keys), generator=generator)
    fill = torch.empty(n, task.filler, dtype=torch.long)
    fill[:, :2] = torch.randint(0, kv, (n, 2), generator=generator)
    for t in range(2, task.filler):
        fill[:, t] = (fill[:, t - 1] * 5 + fill[:, t - 2]) % kv
    ids = torch.cat([keys, fill + kv, keys], dim=1)
    return RetrievalBatch(ids, task.num_keys + task.filler)


def _targets(batch: RetrievalBatch):
    ids = batch.input_ids
    return ids[:, 1:], ids[:, :-1]


@torch.no_grad()
def retrieval_score(model, batch: RetrievalBatch, chunk: int = 256) -> float:
    """S: teacher-forced accuracy on the repeated keys, in [0, 1]."""
    correct = total = 0
    start = batch.answer_start
    for lo in range(0, batch.input_ids.shape[0], chunk):
        ids = batch.input_ids[lo : lo + chunk]
        logits = model(ids[:, :-1])
        pred = logits[:, start - 1 :].argmax(-1)
        tgt = ids[:, start:]
        correct += int((pred == tgt).sum())
        total += tgt.numel()
    return correct / total


def lm_loss(model, batch: dict) -> torch.Tensor:
    """Cross-entropy on the filler (local) and the repeat (needs attention >= filler+keys back)."""
    ids = batch["input_ids"]
    start = int(batch["loss_from"][0])
    logits = model(ids[:, :-1])
    return F.cross_entropy(
        logits[:, start - 1 :].reshape(-1, logits.shape[-1]), ids[:, start:].reshape(-1)
    )


def train_tiny(
    model_config: TinyLMConfig, task: TaskConfig, seed: int = 0, steps: int | None = None
):
    """Train a ``TinyRetrievalLM`` on fresh task samples with ``papershelf.train.train``.

    Returns (model, train_state). Loss covers the filler after its two random starts and the repeat.
    """
    from papershelf.train import TrainConfig, train

    from bosch.model import TinyRetrievalLM

    torch.manual_seed(seed)
    model = TinyRetrievalLM(model_config)
    steps = steps or task.train_steps
    loss_from = task.num_keys + 2

    def data(step: int) -> dict:
        g = torch.Generator().manual_seed(seed * 1_000_003 + step + 17)
        b = make_batch(task, task.batch_size, g)
        return {
            "input_ids": b.input_ids,
            "loss_from": torch.full((task.batch_size,), loss_from),
        }

    config = TrainConfig(
        max_steps=steps,
        lr=task.lr,
        batch_size=task.batch_size,
        schedule="one_cycle",
        warmup_steps=max(1, steps // 10),
        max_grad_norm=1.0,
        weight_decay=0.01,
        seed=seed,
        progress=False,
    )
    state = train(model, data, lm_loss, config)
    model.eval()
    return model, state
