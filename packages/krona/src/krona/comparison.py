"""The models KronA is compared on, shared by the claims and the bench.

- :func:`build_classifier`: a fresh :class:`~krona.classifier.MeanPoolClassifier` with KronA
  or LoRA r=1/r=2 adapters on query/value (the equal-budget claim's three methods).
- :func:`build_inference_models`: the base encoder and its adapted copies (merged and
  unmerged KronA, KronA^B, KronA^B_res, unmerged LoRA r=1) timed by the inference-cost claim
  and the bench.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from krona.baselines import add_lora
from krona.classifier import MeanPoolClassifier
from krona.config import KronAConfig
from krona.model import get_krona_model

__all__ = ["METHODS", "build_classifier", "build_inference_models"]

#: the equal-budget claim's methods: KronA (16×16⊗24×24 on MiniLM), LoRA r=1 and r=2
METHODS = ("krona", "lora_r1", "lora_r2")


def build_classifier(
    method: str, encoder: nn.Module, num_labels: int, seed: int, scale: float = 1.0
) -> tuple[nn.Module, int]:
    """A fresh classifier on a copy of ``encoder`` (head seeded by ``seed``) with ``method``'s
    adapters (LoRA with ``alpha = scale·r``); the model and its adapter parameter count."""
    torch.manual_seed(seed)
    model = MeanPoolClassifier(copy.deepcopy(encoder), num_labels)
    if method == "krona":
        km = get_krona_model(model, KronAConfig(scale=scale, modules_to_save=["classifier"]))
        return km, km.num_adapter_parameters()
    r = int(method[-1])
    add_lora(model, r=r, alpha=scale * r, modules_to_save=["classifier"])
    n = sum(p.numel() for n_, p in model.named_parameters() if p.requires_grad and "lora_" in n_)
    return model, n


def build_inference_models(encoder: nn.Module) -> dict[str, nn.Module]:
    """The base encoder and its adapted copies (adapter weights random, as after training)."""
    g = torch.Generator().manual_seed(0)

    def randomise(model: nn.Module) -> nn.Module:
        with torch.no_grad():
            for p in model.parameters():
                if p.requires_grad:
                    p.copy_(0.02 * torch.randn(p.shape, generator=g))
        return model.eval()

    models: dict[str, nn.Module] = {"base": encoder.eval()}
    krona = randomise(get_krona_model(copy.deepcopy(encoder), KronAConfig()))
    models["krona (unmerged)"] = krona
    models["krona merged"] = copy.deepcopy(krona).merge_and_unload().eval()
    models["krona_b (6 FFN blocks)"] = randomise(
        get_krona_model(copy.deepcopy(encoder), KronAConfig(variant="block"))
    )
    models["krona_b_res"] = randomise(
        get_krona_model(copy.deepcopy(encoder), KronAConfig(variant="block_res"))
    )
    models["lora r=1 (unmerged)"] = randomise(add_lora(copy.deepcopy(encoder), r=1))
    return models
