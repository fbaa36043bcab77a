"""A minimal adapter method on the template, for tests (ours and a new method's).

``ToyLoRA`` is a plain LoRA layer (``ΔW = s·B·A``), ``ToyLoRAConfig`` its config and
``ToyLoRAModel`` the whole method in a dozen lines: what a method adds to
:class:`papershelf.adapters.AdapterModel` when it needs no hook. ``toy_encoder(seed)`` is a
two-block model with ``query``/``key``/``value`` ``nn.Linear`` layers, a LayerNorm and a
``classifier`` head, whose ``config.model_type`` is ``"bert"`` (so default targets resolve);
``add_toy_lora(model, targets)`` injects ``ToyLoRA`` layers by hand (no wrapper).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from papershelf.adapters.layer import AdapterLayer
from papershelf.adapters.model import AdapterModel
from papershelf.adapters.targets import inject_adapters, resolve_target_modules
from papershelf.config import Config, check_positive

__all__ = [
    "Block",
    "Toy",
    "ToyLoRA",
    "ToyLoRAConfig",
    "ToyLoRAModel",
    "add_toy_lora",
    "toy_encoder",
]


@dataclass
class ToyLoRAConfig(Config):
    """Rank ``r``, scale ``s`` and PEFT's three target fields."""

    r: int = 2
    scale: float = 0.5
    target_modules: list[str] | str | None = None
    exclude_modules: list[str] | str | None = None
    modules_to_save: list[str] | None = None

    def validate(self) -> None:
        check_positive("r", self.r)


class ToyLoRA(AdapterLayer):
    """A plain LoRA layer: ``ΔW = s·B·A`` with ``A, B ~ N(0, 1)`` (so it is not a no-op)."""

    def __init__(self, base: nn.Linear, config: ToyLoRAConfig | None = None) -> None:
        super().__init__(base)
        config = config or ToyLoRAConfig()
        self.lora_A = nn.Linear(base.in_features, config.r, bias=False)
        self.lora_B = nn.Linear(config.r, base.out_features, bias=False)
        nn.init.normal_(self.lora_A.weight)
        nn.init.normal_(self.lora_B.weight)
        self.scale = config.scale

    def adapter_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.lora_B(self.lora_A(x))

    def delta_weight(self) -> torch.Tensor:
        return self.scale * self.lora_B.weight @ self.lora_A.weight


class ToyLoRAModel(AdapterModel):
    """The toy method: class attributes only."""

    adapter_type = "toy-lora"
    prefix = "lora_"
    config_class = ToyLoRAConfig
    layer_class = ToyLoRA


class Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.query(x) * torch.sigmoid(self.key(x)) + self.value(x))


class _ToyConfig:
    model_type = "bert"


class Toy(nn.Module):
    def __init__(self, d: int = 8, n_out: int = 3) -> None:
        super().__init__()
        self.config = _ToyConfig()
        self.layers = nn.ModuleList([Block(d), Block(d)])
        self.classifier = nn.Linear(d, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.layers:
            x = block(x)
        return self.classifier(x)


def toy_encoder(seed: int = 0, d: int = 8) -> Toy:
    """A fresh :class:`Toy` with weights drawn from ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    return Toy(d)


def add_toy_lora(
    model: nn.Module, targets: tuple[str, ...] = ("query", "value")
) -> dict[str, AdapterLayer]:
    """Inject a :class:`ToyLoRA` into each module matching ``targets`` (PEFT suffix rules)."""
    names = resolve_target_modules(model, list(targets))
    return inject_adapters(model, names, lambda name, lin: ToyLoRA(lin))
