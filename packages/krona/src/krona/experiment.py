"""What the claims and the CLI share: a mean-pooled sentence classifier on an encoder and a
plain training loop. The tokenised task and its evaluation are ``papershelf.text_classification``'s
(``encode``, ``classification_loss``, ``evaluate``, re-exported here).

``MeanPoolClassifier(encoder, num_labels)``: ``forward(input_ids: (batch, seq),
attention_mask: (batch, seq)) -> logits (batch, num_labels)``; the head is a
``nn.Linear`` called ``classifier`` (384·4 + 4 = 1,540 parameters for MiniLM, 4 classes),
all-MiniLM-L6-v2's own pooling (mean over real tokens).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from papershelf.text_classification import classification_loss, encode, evaluate
from torch import nn

__all__ = [
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


def train_classifier(
    model: nn.Module,
    data: dict[str, torch.Tensor],
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
    n = len(data["labels"])
    order = torch.randperm(n, generator=g)
    pos, losses = 0, []
    model.train()
    for _ in range(steps):
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=g), 0
        idx = order[pos : pos + batch_size]
        loss = classification_loss(model, {k: v[idx] for k, v in data.items()})
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
