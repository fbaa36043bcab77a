"""Small builders for tests (ours and users'): a tiny random BERT, randomised adapters."""

from __future__ import annotations

import torch

__all__ = ["make_tiny_bert", "randomize_adapters"]


def make_tiny_bert(seed: int = 0, num_labels: int = 3, hidden: int = 32):
    """A 2-layer random BERT classifier (vocab 100) built in code."""
    from papershelf.models import tiny_encoder_config
    from transformers import BertForSequenceClassification

    torch.manual_seed(seed)
    cfg = tiny_encoder_config(
        vocab_size=100,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_labels=num_labels,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = BertForSequenceClassification(cfg)
    model.eval()
    return model


def randomize_adapters(model, seed: int = 1, scale: float = 0.3) -> None:
    """Give lora_B non-zero values (at init it is 0, which hides most bugs)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.dylora_layers.values():
            layer.lora_A.weight.copy_(torch.randn(layer.lora_A.weight.shape, generator=gen) * scale)
            layer.lora_B.weight.copy_(torch.randn(layer.lora_B.weight.shape, generator=gen) * scale)
