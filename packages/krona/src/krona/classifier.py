"""The sentence classifier that ``krona train`` and the equal-budget claim adapt.

``MeanPoolClassifier(encoder, num_labels)``: ``forward(input_ids: (batch, seq),
attention_mask: (batch, seq)) -> logits (batch, num_labels)``; the head is a
``nn.Linear`` called ``classifier`` (384·4 + 4 = 1,540 parameters for MiniLM, 4 classes),
all-MiniLM-L6-v2's own pooling (mean over real tokens). The tokenised task, its loss and
its evaluation are ``papershelf.text_classification``'s.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["MeanPoolClassifier"]


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
