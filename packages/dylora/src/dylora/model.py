"""``DyLoRAModel``: a Hugging Face model with DyLoRA layers, rank control, save/load, merge.

The wrapper forwards ``forward`` and attribute access to the wrapped model (as PEFT's
``PeftModel`` does) and owns the rank state. Module surgery, freezing, adapter-only
save/load and merging come from :mod:`papershelf.adapters`.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from papershelf import adapters
from papershelf.errors import UserError
from torch import nn

from dylora.config import DyLoRAConfig
from dylora.layer import DyLoRALinear
from dylora.sampling import draw_rank

__all__ = ["DyLoRAModel", "evaluate_ranks", "get_dylora_model"]

ADAPTER_TYPE = "dylora"


def _library_version() -> str:
    from dylora import __version__

    return __version__


class DyLoRAModel(adapters.AdapterModel):
    """A model whose target ``nn.Linear`` layers are :class:`DyLoRALinear`.

    Build it with :func:`get_dylora_model` or :meth:`from_pretrained`. ``model.model`` is the
    wrapped (modified in place) Hugging Face model; ``model.dylora_config`` the config.
    """

    def __init__(self, model: nn.Module, config: DyLoRAConfig, target_names: list[str]) -> None:
        super().__init__(model)
        self.dylora_config = config
        self.target_names = list(target_names)
        self._explicit_rank = False
        self._sampled = False
        self._warned = False
        self._snapshot: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None

    # -- plumbing ---------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.training and not self._sampled and not self._explicit_rank and not self._warned:
            self._warned = True
            warnings.warn(
                "DyLoRA: training forward without a sampled rank; call model.sample_rank(step) "
                "before each optimizer step (or add dylora.DyLoRACallback to the Trainer), "
                "otherwise this trains a plain LoRA at the current rank",
                stacklevel=2,
            )
        return super().forward(*args, **kwargs)

    @property
    def dylora_layers(self) -> dict[str, DyLoRALinear]:
        return {n: m for n, m in self.model.named_modules() if isinstance(m, DyLoRALinear)}

    def train(self, mode: bool = True) -> DyLoRAModel:
        super().train(mode)
        if not mode and not self._explicit_rank and not self.merged:
            self._set_all(self.dylora_config.resolved_eval_rank)
        return self

    # -- rank control -----------------------------------------------------------------------
    @property
    def merged(self) -> bool:
        return any(layer.merged for layer in self.dylora_layers.values())

    @property
    def rank(self) -> int | dict[str, int]:
        """The active rank (a dict by layer name when layers differ, in per-layer scope)."""
        ranks = {n: layer.rank for n, layer in self.dylora_layers.items()}
        values = set(ranks.values())
        return values.pop() if len(values) == 1 else ranks

    def _set_all(self, b: int | dict[str, int]) -> None:
        layers = self.dylora_layers
        if self.merged:
            raise UserError("rank: the adapter is merged; call unmerge_adapter() before set_rank")
        if isinstance(b, dict):
            for name, rank in b.items():
                layers[name].rank = rank
        else:
            self.dylora_config.check_rank(b)
            for layer in layers.values():
                layer.rank = b

    def set_rank(self, b: int | dict[str, int]) -> None:
        """Use rank ``b`` (1-based, in [r_min, r_max]) in every layer until changed."""
        self._set_all(b)
        self._explicit_rank = True

    @contextlib.contextmanager
    def at_rank(self, b: int) -> Iterator[DyLoRAModel]:
        """``with model.at_rank(b): ...`` evaluates at b and restores the previous rank."""
        previous = {n: layer.rank for n, layer in self.dylora_layers.items()}
        explicit = self._explicit_rank
        self.set_rank(b)
        try:
            yield self
        finally:
            self._set_all(previous)
            self._explicit_rank = explicit

    def sample_rank(self, step: int) -> int | dict[str, int]:
        """Draw and set b for optimizer step ``step`` (a function of ``(seed, step)`` only).

        Call it once per optimizer step, before the first micro-batch. Returns the rank, or a
        dict by layer name in ``sampling_scope="per_layer"``.
        """
        config = self.dylora_config
        if config.sampling_scope == "global":
            drawn: int | dict[str, int] = draw_rank(config, step)
        else:
            drawn = {n: draw_rank(config, step, i) for i, n in enumerate(self.dylora_layers)}
        self._set_all(drawn)
        self._explicit_rank = False
        self._sampled = True
        if config.strict_freeze:
            self._snapshot = {
                n: (layer.lora_A.weight.detach().clone(), layer.lora_B.weight.detach().clone())
                for n, layer in self.dylora_layers.items()
            }
        return drawn

    @torch.no_grad()
    def restore_inactive_rows(self) -> None:
        """After ``optimizer.step()``: put back every row outside this step's active set.

        Needs ``strict_freeze=True`` (the snapshot is taken by ``sample_rank``). Active rows
        are row b in ``"frozen"`` mode and rows 1..b in ``"all"`` mode (0-based: b-1, :b).
        """
        if not self.dylora_config.strict_freeze:
            raise UserError("strict_freeze: restore_inactive_rows needs strict_freeze=True")
        if self._snapshot is None:
            raise UserError("restore_inactive_rows: call sample_rank(step) before the step")
        frozen = self.dylora_config.update_mode == "frozen"
        for name, layer in self.dylora_layers.items():
            a_old, b_old = self._snapshot[name]
            b = layer.rank
            keep = torch.ones(a_old.shape[0], dtype=torch.bool, device=a_old.device)
            if frozen:
                keep[b - 1] = False
            else:
                keep[:b] = False
            layer.lora_A.weight[keep] = a_old[keep]
            layer.lora_B.weight[:, keep] = b_old[:, keep]
        self._snapshot = None

    # -- merging ----------------------------------------------------------------------------
    def merge_adapter(self, rank: int) -> None:
        """Merge ΔW_rank into every base weight (outputs unchanged; adapters kept)."""
        self.dylora_config.check_rank(rank)
        if self.merged:
            raise UserError(
                "merge_adapter: already merged; call unmerge_adapter() before merging at another rank"
            )
        for layer in self.dylora_layers.values():
            layer.merge(rank)

    def unmerge_adapter(self) -> None:
        for layer in self.dylora_layers.values():
            if layer.merged:
                layer.unmerge()

    def merge_and_unload(self, *, rank: int) -> nn.Module:
        """The wrapped model with plain ``nn.Linear`` weights ``W₀ + ΔW_rank``."""
        self.dylora_config.check_rank(rank)
        if not self.merged:
            self.merge_adapter(rank)
        elif {layer.merged_rank for layer in self.dylora_layers.values()} != {rank}:
            raise UserError(
                "merge_and_unload: merged at another rank; call unmerge_adapter() first"
            )
        return adapters.merge_and_unload(self.model)

    def unload(self) -> nn.Module:
        """The wrapped model with its original ``nn.Linear`` layers (adapters dropped)."""
        return adapters.unload(self.model)

    @contextlib.contextmanager
    def disable_adapter(self) -> Iterator[DyLoRAModel]:
        """Run the base model: the adapters' outputs are skipped inside the block."""
        if self.merged:
            raise UserError("disable_adapter: unmerge_adapter() first")
        with adapters.disabled_adapters(self.dylora_layers.values()):
            yield self

    # -- saving -----------------------------------------------------------------------------
    def _base_model_name_or_path(self) -> str | None:
        return getattr(getattr(self.model, "config", None), "_name_or_path", None) or None

    def _config_dict(self) -> dict[str, Any]:
        d = self.dylora_config.to_dict()
        d.update(
            adapter_type=ADAPTER_TYPE,
            base_model_name_or_path=self._base_model_name_or_path(),
            target_shapes=adapters.target_shapes(self.model),
            library_version=_library_version(),
        )
        return d

    def save_pretrained(self, save_directory: str | Path, **_: Any) -> Path:
        """Write ``adapter_model.safetensors`` (all r_max rows, PEFT keys, modules_to_save)
        and ``adapter_config.json`` (every config field, target shapes), atomically."""
        if self.merged:
            raise UserError("save_pretrained: unmerge_adapter() first (weights hold ΔW)")
        return adapters.save_adapter(
            save_directory, self.model, self._config_dict(), self.dylora_config.modules_to_save
        )

    @classmethod
    def from_pretrained(
        cls,
        base_model: nn.Module,
        adapter_dir: str | Path,
        is_trainable: bool = False,
        rank: int | None = None,
    ) -> DyLoRAModel:
        """Load a saved DyLoRA adapter onto ``base_model`` (modified in place).

        Refuses an adapter dir that lacks a file, is not a DyLoRA adapter, or was saved for a
        base model with other target shapes. Sets ``rank`` (default: the saved ``eval_rank``).
        """
        raw = adapters.read_adapter_config(adapter_dir)
        if raw.get("adapter_type") != ADAPTER_TYPE:
            raise UserError(
                f"adapter dir: {str(adapter_dir)!r} holds adapter_type "
                f"{raw.get('adapter_type', raw.get('peft_type'))!r}, not 'dylora'"
            )
        config = DyLoRAConfig.from_dict(raw)
        shapes = raw.get("target_shapes")
        if not isinstance(shapes, dict) or not shapes:
            raise UserError(f"adapter dir: {str(adapter_dir)!r} records no target_shapes")
        adapters.check_target_shapes(base_model, shapes)
        targets = list(shapes)
        model = _wrap(base_model, config, targets)
        adapters.load_adapter(adapter_dir, base_model, config.modules_to_save)
        if rank is not None:
            model.set_rank(rank)
        else:
            model._set_all(config.resolved_eval_rank)
        if not is_trainable:
            for p in model.parameters():
                p.requires_grad_(False)
            model.eval()
        return model

    def export_peft_lora(self, save_directory: str | Path, *, rank: int) -> Path:
        """Write the rank-``rank`` slice as a standard PEFT LoRA adapter directory.

        ``lora_A = W_dw[:b]: (b, in)``, ``lora_B = W_up[:, :b]: (out, b)`` copied bit-for-bit,
        ``r = b`` and ``lora_alpha = α`` (α/b rule) or ``α·b/r_max`` (constant rule), so
        PEFT's scale ``lora_alpha / r`` equals ours.
        """
        config = self.dylora_config
        b = config.check_rank(rank)
        if self.merged:
            raise UserError("export_peft_lora: unmerge_adapter() first")
        # our full adapter under PEFT's keys, with each layer's lora_A/lora_B cut to rank b
        tensors = adapters.adapter_state_dict(self.model, config.modules_to_save)
        prefix = adapters.ADAPTER_KEY_PREFIX
        for name, layer in self.dylora_layers.items():
            tensors[f"{prefix}{name}.lora_A.weight"] = layer.lora_A.weight[:b]
            tensors[f"{prefix}{name}.lora_B.weight"] = layer.lora_B.weight[:, :b]
        alpha = (
            config.alpha if config.scaling == "alpha_over_b" else config.alpha * b / config.r_max
        )
        peft_config = {
            "peft_type": "LORA",
            "task_type": None,
            "base_model_name_or_path": self._base_model_name_or_path(),
            "r": b,
            "lora_alpha": alpha,
            "lora_dropout": config.dropout,
            "target_modules": sorted(self.dylora_layers),
            "bias": "none",
            "use_rslora": False,
            "use_dora": False,
            "fan_in_fan_out": False,
            "init_lora_weights": True,
            "inference_mode": True,
            "modules_to_save": config.modules_to_save,
        }
        return adapters.write_adapter_dir(save_directory, tensors, peft_config)


def _wrap(model: nn.Module, config: DyLoRAConfig, targets: list[str] | None = None) -> DyLoRAModel:
    if isinstance(model, DyLoRAModel) or adapters.adapter_layers(model):
        raise UserError("model: already holds adapter layers; pass a fresh base model")
    names = targets or adapters.resolve_target_modules(
        model, config.target_modules, config.exclude_modules, config.modules_to_save
    )
    adapters.inject_adapters(model, names, lambda _name, linear: DyLoRALinear(linear, config))
    adapters.mark_only_adapters_trainable(model, config.modules_to_save)
    return DyLoRAModel(model, config, names)


def get_dylora_model(model: nn.Module, config: DyLoRAConfig) -> DyLoRAModel:
    """Replace the target ``nn.Linear`` layers of ``model`` (in place) by DyLoRA layers.

    Everything except the adapters and ``config.modules_to_save`` is frozen. The rank starts
    at ``eval_rank`` (r_max by default); during training call ``sample_rank(step)`` once per
    optimizer step.
    """
    if not isinstance(config, DyLoRAConfig):
        raise UserError(f"config: expected a DyLoRAConfig, got {type(config).__name__}")
    return _wrap(model, config)


def evaluate_ranks(
    model: DyLoRAModel,
    eval_fn: Callable[[DyLoRAModel], dict[str, float]],
    ranks: Iterable[int],
) -> dict[int, dict[str, float]]:
    """The search-free sweep: ``{b: eval_fn(model) at rank b}`` for each b (model in eval)."""
    was_training, explicit = model.training, model._explicit_rank
    previous = {n: layer.rank for n, layer in model.dylora_layers.items()}
    model.eval()
    out: dict[int, dict[str, float]] = {}
    try:
        for b in ranks:
            with model.at_rank(b), torch.no_grad():
                out[b] = dict(eval_fn(model))
    finally:
        model.train(was_training)
        model._set_all(previous)
        model._explicit_rank = explicit
    return out
