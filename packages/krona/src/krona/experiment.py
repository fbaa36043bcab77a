"""What the claims and the CLI share: a mean-pooled sentence classifier on an encoder,
tokenised text-classification batches, a plain training loop and evaluation.

``MeanPoolClassifier(encoder, num_labels)``: ``forward(input_ids: (batch, seq),
attention_mask: (batch, seq)) -> logits (batch, num_labels)``; the head is a
``nn.Linear`` called ``classifier`` (384·4 + 4 = 1,540 parameters for MiniLM, 4 classes),
all-MiniLM-L6-v2's own pooling (mean over real tokens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = [
    "Encoded",
    "MeanPoolClassifier",
    "classification_loss",
    "encode",
    "evaluate",
    "train_classifier",
]


class MeanPoolClassifier(nn.Module):
    """An encoder (``AutoModel``) with mean pooling and a linear ``classifier`` head."""

    def __init__(self, encoder: nn.Module, num_labels: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.classifier = nn.Linear(encoder.config.hidden_size, num_labels)

    @property
    def config(self) -> Any:
        return self.encoder.config

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: Any
    ) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)
        return self.classifier(pooled)


@dataclass
class Encoded:
    """A tokenised split: ``input_ids``/``attention_mask``: ``(n, seq)``, ``labels``: ``(n,)``."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int | torch.Tensor) -> dict[str, torch.Tensor]:
        """One example (``i`` an int) or a batch (``i`` an index tensor)."""
        return {
            "input_ids": self.input_ids[i],
            "attention_mask": self.attention_mask[i],
            "labels": self.labels[i],
        }

    def batch(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        """The examples at ``idx``, stacked: ``(len(idx), seq)`` and ``(len(idx),)``."""
        return self[idx]


def encode(tokenizer: Any, texts: list[str], labels: list[int], max_length: int = 64) -> Encoded:
    """Tokenise ``texts`` (padded to the longest, truncated to ``max_length``)."""
    enc = tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )
    return Encoded(enc["input_ids"], enc["attention_mask"], torch.tensor(labels, dtype=torch.long))


def classification_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy of ``model(input_ids, attention_mask)`` against ``labels``."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    return nn.functional.cross_entropy(logits, batch["labels"])


def train_classifier(
    model: nn.Module,
    data: Encoded,
    *,
    steps: int,
    lr: float,
    batch_size: int = 32,
    warmup: int = 10,
    seed: int = 0,
) -> list[float]:
    """AdamW (weight decay 0) on the trainable parameters, ``warmup`` linear warm-up steps then
    linear decay to 0; batches are seeded permutations. Returns the loss of every step."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            (s + 1) / warmup if s < warmup else max(0.0, (steps - s) / max(1, steps - warmup))
        ),
    )
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(data), generator=g)
    pos, losses = 0, []
    model.train()
    for _ in range(steps):
        if pos + batch_size > len(data):
            order, pos = torch.randperm(len(data), generator=g), 0
        loss = classification_loss(model, data.batch(order[pos : pos + batch_size]))
        pos += batch_size
        if not math.isfinite(loss.item()):
            raise FloatingPointError(
                f"loss: became {loss.item()}; lower the learning rate (now {lr})"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def evaluate(model: nn.Module, data: Encoded, batch_size: int = 128) -> dict[str, float]:
    """``{"accuracy", "nll"}`` of ``model`` on ``data``."""
    model.eval()
    correct, nll = 0, 0.0
    for start in range(0, len(data), batch_size):
        b = data.batch(torch.arange(start, min(start + batch_size, len(data))))
        logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"])
        nll += nn.functional.cross_entropy(logits, b["labels"], reduction="sum").item()
        correct += (logits.argmax(-1) == b["labels"]).sum().item()
    return {"accuracy": correct / len(data), "nll": nll / len(data)}
