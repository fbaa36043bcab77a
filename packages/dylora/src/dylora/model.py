"""``DyLoRAModel``: a Hugging Face model with DyLoRA layers and rank control.

The generic adapter API — injection, freezing, ``merge_adapter``/``unmerge_adapter``,
``merge_and_unload``, ``unload``, ``disable_adapter``, ``save_pretrained``/``from_pretrained``,
``export_peft``, ``print_trainable_parameters`` — is the template
:class:`papershelf.adapters.AdapterModel`, with the same names as krona's ``KronAModel``.
What is DyLoRA's own is here: the rank state (``rank``, ``set_rank``, ``at_rank``,
``sample_rank``, ``restore_inactive_rows``, :func:`evaluate_ranks`) and the ``rank`` argument
of ``merge_adapter(rank)``, ``merge_and_unload(rank=b)``, ``from_pretrained(..., rank=b)`` and
``export_peft(dir, rank=b)`` (the rank-b slice as a plain PEFT LoRA, :mod:`dylora.export`).

Renamed (the old name warns with ``DeprecationWarning`` for one release):
``export_peft_lora(dir, rank=b)`` -> ``export_peft(dir, rank=b)``.
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


class DyLoRAModel(adapters.AdapterModel):
    """A model whose target ``nn.Linear`` layers are :class:`DyLoRALinear`.

    Build it with :func:`get_dylora_model` or :meth:`from_pretrained`. ``model.model`` is the
    wrapped (modified in place) Hugging Face model; ``model.adapter_config`` (also
    ``model.dylora_config``) the config.
    """

    adapter_type = "dylora"
    prefix = "lora_"
    config_class = DyLoRAConfig
    layer_class = DyLoRALinear

    def __init__(
        self, model: nn.Module, config: DyLoRAConfig, targets: list[str] | None = None
    ) -> None:
        super().__init__(model, config, targets)
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
                "before each training step (papershelf.train: hooks=[dylora.RankHook(model)]; "
                "HF Trainer: callbacks=[dylora.DyLoRACallback(model)]), "
                "otherwise this trains a plain LoRA at the current rank",
                stacklevel=2,
            )
        return super().forward(*args, **kwargs)

    @property
    def dylora_config(self) -> DyLoRAConfig:
        """The config (``adapter_config`` under DyLoRA's name)."""
        return self.adapter_config

    @property
    def dylora_layers(self) -> dict[str, DyLoRALinear]:
        """Every :class:`DyLoRALinear` by dotted name (``adapter_layers()``, typed)."""
        return self.adapter_layers()  # type: ignore[return-value]

    def train(self, mode: bool = True) -> DyLoRAModel:
        super().train(mode)
        if not mode and not self._explicit_rank and not self.merged:
            self._set_all(self.adapter_config.resolved_eval_rank)
        return self

    # -- rank control -----------------------------------------------------------------------
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
            self.adapter_config.check_rank(b)
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
        """Draw and set b for training step ``step`` (a function of ``(seed, step)`` only).

        Call it once per training step, before the first micro-batch. Returns the rank, or a
        dict by layer name in ``sampling_scope="per_layer"``.
        """
        config = self.adapter_config
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
        """After the optimizer update: put back every row outside this step's active set.

        Needs ``strict_freeze=True`` (the snapshot is taken by ``sample_rank``). Active rows
        are row b in ``"frozen"`` mode and rows 1..b in ``"all"`` mode (0-based: b-1, :b).
        """
        if not self.adapter_config.strict_freeze:
            raise UserError("strict_freeze: restore_inactive_rows needs strict_freeze=True")
        if self._snapshot is None:
            raise UserError("restore_inactive_rows: call sample_rank(step) before the step")
        frozen = self.adapter_config.update_mode == "frozen"
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

    # -- the rank argument of the template's merge / load / export --------------------------
    def merge_adapter(self, rank: int, safe_merge: bool = False) -> None:  # type: ignore[override]
        """Merge ``ΔW_rank`` into every base weight (outputs unchanged; adapters kept)."""
        self.adapter_config.check_rank(rank)
        super().merge_adapter(safe_merge=safe_merge, rank=rank)

    def merge_and_unload(self, *, rank: int, safe_merge: bool = False) -> nn.Module:  # type: ignore[override]
        """The wrapped model with plain ``nn.Linear`` weights ``W₀ + ΔW_rank``."""
        self.adapter_config.check_rank(rank)
        if self.merged and {layer.merged_rank for layer in self.dylora_layers.values()} != {rank}:
            raise UserError(
                "merge_and_unload: merged at another rank; call unmerge_adapter() first"
            )
        return super().merge_and_unload(safe_merge=safe_merge, rank=rank)

    @classmethod
    def from_pretrained(  # type: ignore[override]
        cls,
        base_model: nn.Module,
        adapter_dir: str | Path,
        is_trainable: bool = False,
        rank: int | None = None,
    ) -> DyLoRAModel:
        """Load a saved DyLoRA adapter onto ``base_model`` (modified in place).

        The template's checks (files, adapter type, target shapes), then ``rank`` is set
        (default: the saved ``eval_rank``).
        """
        model = super().from_pretrained(base_model, adapter_dir, is_trainable=is_trainable)
        if rank is not None:
            model.set_rank(rank)
        return model

    def _peft_adapter(self, *, rank: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        from dylora.export import peft_lora_adapter

        return peft_lora_adapter(self, rank)

    def export_peft(self, save_directory: str | Path, *, rank: int) -> Path:  # type: ignore[override]
        """Write the rank-``rank`` slice as a standard PEFT LoRA adapter directory."""
        return super().export_peft(save_directory, rank=rank)

    export_peft_lora = adapters.deprecated_alias("export_peft", "export_peft_lora")


def get_dylora_model(model: nn.Module, config: DyLoRAConfig) -> DyLoRAModel:
    """Replace the target ``nn.Linear`` layers of ``model`` (in place) by DyLoRA layers.

    Everything except the adapters and ``config.modules_to_save`` is frozen. The rank starts
    at ``eval_rank`` (r_max by default); during training call ``sample_rank(step)`` once per
    training step.
    """
    return DyLoRAModel(model, config)


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
