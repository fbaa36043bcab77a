"""A minimal adapter method on the template, for tests (ours and a new method's).

``ToyLoRA`` is a plain LoRA layer (``ΔW = s·B·A``), ``ToyLoRAConfig`` its config and
``ToyLoRAModel`` the whole method in a dozen lines: what a method adds to
:class:`papershelf.adapters.AdapterModel` when it needs no hook. ``toy_encoder(seed)`` is a
two-block model with ``query``/``key``/``value`` ``nn.Linear`` layers, a LayerNorm and a
``classifier`` head, whose ``config.model_type`` is ``"bert"`` (so default targets resolve);
``add_toy_lora(model, targets)`` injects ``ToyLoRA`` layers by hand (no wrapper).
``linear_twin(model)`` is a deep copy of a model with every GPT-2 ``Conv1D`` replaced by the
equivalent ``nn.Linear`` (weight transposed): the oracle of the ``Conv1D`` (fan_in_fan_out)
support. ``trainer_round_trip(...)`` runs a method's model through ``transformers.Trainer``
with default arguments (train, evaluate, predict, checkpoint, reload, resume) and asserts
what a PEFT user expects; the adapter packages' Trainer tests call it, with the tiny
transformers models ``tiny_bert`` (3 labels), ``tiny_llama`` and ``tiny_gpt2`` (float64), the
rows ``trainer_rows(causal)`` and ``argmax_accuracy`` as ``compute_metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    "argmax_accuracy",
    "linear_twin",
    "tiny_bert",
    "tiny_gpt2",
    "tiny_llama",
    "toy_encoder",
    "trainer_round_trip",
    "trainer_rows",
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

    def __init__(self, base: nn.Module, config: ToyLoRAConfig | None = None) -> None:
        super().__init__(base)
        config = config or ToyLoRAConfig()
        self.lora_A = nn.Linear(self.in_features, config.r, bias=False)
        self.lora_B = nn.Linear(config.r, self.out_features, bias=False)
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


def linear_twin(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` whose GPT-2 ``Conv1D`` layers are equivalent ``nn.Linear``s.

    ``Conv1D`` computes ``x @ W + b`` with ``W: (in, out)``; the twin's ``nn.Linear`` holds
    ``W.T: (out, in)`` and the same bias, so both models compute the same function.
    """
    import copy

    from papershelf.adapters.layer import is_conv1d
    from papershelf.adapters.targets import set_submodule

    twin = copy.deepcopy(model)
    for name, module in list(twin.named_modules()):
        if name and is_conv1d(module):
            n_in, n_out = module.weight.shape
            w = module.weight
            linear = nn.Linear(
                n_in, n_out, bias=module.bias is not None, dtype=w.dtype, device=w.device
            )
            with torch.no_grad():
                linear.weight.copy_(w.T)
                if module.bias is not None:
                    linear.bias.copy_(module.bias)
            set_submodule(twin, name, linear)
    return twin


def trainer_round_trip(
    make_base: Any,
    wrap: Any,
    model_class: Any,
    data: list[dict[str, Any]],
    out_dir: Any,
    callbacks: Any,
    compute_metrics: Any = None,
    resume: bool = True,
) -> dict[str, Any]:
    """Train, evaluate, predict, checkpoint, reload and resume an adapter model through
    ``transformers.Trainer`` with default ``TrainingArguments`` (only the output folder, the
    step counts, the batch size and ``report_to`` set) and check what a PEFT user expects.

    Args:
        make_base: ``() -> base model`` (the same weights at every call).
        wrap: ``base -> adapter model`` (the method's ``get_<x>_model``).
        model_class: the method's model class (``from_pretrained``).
        data: the training/eval rows (dicts; extra columns are dropped by the Trainer).
        out_dir: a fresh folder.
        callbacks: ``() -> list of callbacks`` (a fresh list per Trainer).
        compute_metrics: passed to the Trainer; its keys come back as ``eval_<key>``.
        resume: also resume a fresh model from the first checkpoint and compare.

    Returns ``{"eval": metrics, "predict": PredictionOutput, "checkpoint": folder}``; raises
    ``AssertionError`` on the first expectation that fails.
    """
    from pathlib import Path

    from transformers import Trainer, TrainingArguments

    from papershelf.adapters.trainer import INDEX_NAME

    out_dir = Path(out_dir)

    def trainer(model: nn.Module, folder: Path) -> Any:
        args = TrainingArguments(
            output_dir=str(folder),
            max_steps=2,
            save_steps=1,
            per_device_train_batch_size=4,
            per_device_eval_batch_size=8,
            report_to=[],
            disable_tqdm=True,
        )
        return Trainer(
            model=model,
            args=args,
            train_dataset=data,
            eval_dataset=data,
            compute_metrics=compute_metrics,
            callbacks=callbacks(),
        )

    model = wrap(make_base())
    run = trainer(model, out_dir / "run")
    run.train()
    metrics = run.evaluate()
    assert "eval_loss" in metrics, metrics
    predicted = run.predict(data)
    assert predicted.label_ids is not None and "test_loss" in predicted.metrics
    for step in (1, 2):
        folder = out_dir / "run" / f"checkpoint-{step}"
        model_files = {
            p.name
            for p in folder.iterdir()
            if p.suffix in (".safetensors", ".bin", ".json", ".pt")
            and p.name.startswith(("model", "adapter", "pytorch"))
        }
        assert model_files == {"adapter_config.json", "adapter_model.safetensors", INDEX_NAME}, (
            model_files
        )
    last = out_dir / "run" / "checkpoint-2"
    model.eval()
    loaded = model_class.from_pretrained(make_base(), last)
    batch = {k: torch.tensor([row[k] for row in data[:4]]) for k in data[0] if k != "junk"}
    with torch.no_grad():
        torch.testing.assert_close(loaded(**batch).logits, model(**batch).logits)
    if resume:
        fresh = wrap(make_base())
        again = trainer(fresh, out_dir / "run")
        again.train(resume_from_checkpoint=str(out_dir / "run" / "checkpoint-1"))
        assert again.state.global_step == 2
        for key, value in model.state_dict().items():
            torch.testing.assert_close(fresh.state_dict()[key], value, rtol=1e-5, atol=1e-6)
    return {"eval": metrics, "predict": predicted, "checkpoint": last}


def tiny_bert(seed: int = 0) -> nn.Module:
    """A 2-layer, width-16 ``BertForSequenceClassification`` with 3 labels (eval mode)."""
    import transformers

    from papershelf.models import tiny_encoder_config

    torch.manual_seed(seed)
    cfg = tiny_encoder_config(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_attention_heads=2,
        max_position_embeddings=32,
        num_labels=3,
    )
    return transformers.BertForSequenceClassification(cfg).eval()


def tiny_llama(seed: int = 0, **overrides: Any) -> nn.Module:
    """A width-16 ``LlamaForCausalLM`` (eval mode); ``overrides`` go to its config."""
    import transformers

    from papershelf.models import tiny_decoder_config

    torch.manual_seed(seed)
    cfg = tiny_decoder_config(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_attention_heads=2,
        num_key_value_heads=2,
        **overrides,
    )
    return transformers.LlamaForCausalLM(cfg).eval()


def tiny_gpt2(seed: int = 0) -> nn.Module:
    """A 2-layer, width-16 ``GPT2LMHeadModel`` in float64 (its ``Conv1D`` layers are what
    ``linear_twin`` replaces)."""
    import transformers

    from papershelf.models import tiny_decoder_config

    torch.manual_seed(seed)
    cfg = tiny_decoder_config("gpt2", vocab_size=64, n_embd=16, n_layer=2, n_head=2, n_positions=32)
    return transformers.GPT2LMHeadModel(cfg).eval().double()


def trainer_rows(causal: bool, n: int = 8) -> list[dict[str, Any]]:
    """``n`` rows of 6 token ids (vocabulary 64) with labels (the ids themselves when
    ``causal``, else one of 3 classes) and an unused ``junk`` column the Trainer must drop."""
    g = torch.Generator().manual_seed(0)
    rows = []
    for i in range(n):
        ids = torch.randint(0, 64, (6,), generator=g).tolist()
        label = ids if causal else i % 3
        rows.append({"input_ids": ids, "attention_mask": [1] * 6, "labels": label, "junk": "x"})
    return rows


def argmax_accuracy(pred: Any) -> dict[str, float]:
    """``compute_metrics`` for ``Trainer``: accuracy of the argmax of the predictions."""
    return {"acc": float((pred.predictions.argmax(-1) == pred.label_ids).mean())}
