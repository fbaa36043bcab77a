"""``get_krona_model`` and ``KronAModel``: KronA adapters on any model whose targets are
``nn.Linear`` (variant ``"linear"``) or whose FFN blocks are in :data:`FFN_TAPS` (block
variants), on the template :class:`papershelf.adapters.AdapterModel`.

The generic adapter API — ``merge_adapter``/``unmerge_adapter``, ``merge_and_unload``,
``unload``, ``disable_adapter``, ``save_pretrained``/``from_pretrained``, ``export_peft``,
``print_trainable_parameters`` — has the same names as dylora's ``DyLoRAModel``. What is
KronA's own is here: the factor shapes of each module (``shapes``, ``num_adapter_parameters``),
the block variants (KronA^B, KronA^B_res: a :class:`KronABlock` tapped beside each FFN, which
cannot merge) and the PEFT LoKr export (:mod:`krona.export`).

Saved files (the template's flat layout): ``adapter_model.safetensors`` (keys
``base_model.model.<path>.krona_A`` / ``.krona_B``; block variants
``base_model.model.<ffn owner>.krona_block.krona_A`` ...) and ``adapter_config.json``
(``adapter_type: "krona"``, ``library_version``, ``base_model_name_or_path``,
``target_shapes: {module: [out, in]}``, ``factor_shapes: {module: {"A": [a1, a2], "B": [b1,
b2]}}`` and every ``KronAConfig`` field). Folders in the older nested layout (``"modules"``
and ``"config"`` keys) still load.

Renamed (the old name warns with ``DeprecationWarning`` for one release):
``merge()`` -> ``merge_adapter()``, ``unmerge()`` -> ``unmerge_adapter()``,
``export_peft_lokr(dir)`` -> ``export_peft(dir)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from papershelf import adapters
from torch import nn

from krona.config import KronAConfig
from krona.errors import KronAError
from krona.functional import num_params
from krona.layer import NOT_MERGEABLE, KronABlock, KronALinear

__all__ = ["FFN_TAPS", "KronAModel", "get_krona_model"]

BLOCK_NAME = "krona_block"

#: ``(input, output)`` child paths of each FFN owner, per ``config.model_type``: KronA^B
#: reads the input of ``input`` and adds to the output of ``output`` (BERT: before
#: ``output``'s dropout + residual + LayerNorm; T5: after the pre-FFN LayerNorm).
FFN_TAPS: dict[str, tuple[str, str]] = {
    "bert": ("intermediate", "output.dense"),
    "roberta": ("intermediate", "output.dense"),
    "xlm-roberta": ("intermediate", "output.dense"),
    "electra": ("intermediate", "output.dense"),
    "camembert": ("intermediate", "output.dense"),
    "distilbert": ("ffn", "ffn"),
    "t5": ("DenseReluDense", "DenseReluDense"),
    "mt5": ("DenseReluDense", "DenseReluDense"),
    "gpt2": ("mlp", "mlp"),
    "llama": ("mlp", "mlp"),
    "mistral": ("mlp", "mlp"),
    "qwen2": ("mlp", "mlp"),
    "gemma": ("mlp", "mlp"),
}


def get_krona_model(model: nn.Module, config: KronAConfig | None = None) -> KronAModel:
    """Add KronA adapters to ``model`` in place and return it wrapped; only the adapters
    (and ``config.modules_to_save``) stay trainable."""
    return KronAModel(model, config or KronAConfig())


class KronAModel(adapters.AdapterModel):
    """A model with KronA adapters. Attribute access falls through to the wrapped model, and
    ``forward`` is the wrapped model's, so it works in a plain loop and in the HF Trainer.

    Attributes:
        model: the wrapped model (adapters injected in place).
        adapter_config: the ``KronAConfig`` (also ``krona_config``).
        shapes: ``{module: ((a1, a2), (b1, b2))}`` of every adapter.
    """

    adapter_type = "krona"
    prefix = "krona_"
    config_class = KronAConfig
    layer_class = KronALinear
    metadata_keys = ("factor_shapes",)
    error_class = KronAError

    @property
    def krona_config(self) -> KronAConfig:
        """The config (``adapter_config`` under KronA's name)."""
        return self.adapter_config

    # ----- injection (template hooks) -----
    def _inject_adapters(self, targets: list[str] | None) -> None:
        if self.adapter_config.variant == "linear":
            super()._inject_adapters(targets)
        else:
            self._inject_blocks()

    def _create_layer(self, name: str, linear: nn.Module) -> KronALinear:
        cfg = self.adapter_config
        shapes = cfg.shapes_for(name, *adapters.base_features(linear))
        return KronALinear(linear, shapes, cfg.scale, cfg.init, cfg.dropout, cfg.matmul_order)

    def _saved_modules(self) -> list[str]:
        """The KronA^B blocks (trained and saved whole) and ``modules_to_save``."""
        return [*self._block_names(), *(self.adapter_config.modules_to_save or [])]

    def _inject_blocks(self) -> None:
        cfg = self.adapter_config
        owners = self._ffn_owners()
        d = _model_width(self.model)
        for owner_name, (inp, out) in owners.items():
            owner = self.model.get_submodule(owner_name) if owner_name else self.model
            width = d if d is not None else _linear_width(owner.get_submodule(inp))
            _check_tap_width(owner_name, owner.get_submodule(inp), owner.get_submodule(out), width)
            shapes = cfg.shapes_for(owner_name, width, width)
            p = next(owner.parameters())
            block = KronABlock(
                None,
                width,
                shapes,
                cfg.scale,
                cfg.res_scale if cfg.variant == "block_res" else None,
                cfg.resolved_res_scale_trainable,
                cfg.init,
                cfg.dropout,
                cfg.matmul_order,
                device=p.device,
                dtype=p.dtype,
            )
            owner.add_module(BLOCK_NAME, block)
            block.attach(owner.get_submodule(inp), owner.get_submodule(out))

    def _ffn_owners(self) -> dict[str, tuple[str, str]]:
        cfg = self.adapter_config
        model_type = getattr(getattr(self.model, "config", None), "model_type", None)
        taps = cfg.ffn_taps or ([FFN_TAPS[model_type]] if model_type in FFN_TAPS else None)
        if not taps:
            raise KronAError(
                f"ffn_taps: no FFN map for model_type {model_type!r} (known: {', '.join(FFN_TAPS)}); "
                "pass ffn_taps=[(input_path, output_path)], e.g. [('intermediate', 'output.dense')]"
            )
        owners: dict[str, tuple[str, str]] = {}
        for name, module in self.model.named_modules():
            for inp, out in taps:
                if _has(module, inp) and _has(module, out):
                    owners.setdefault(name, (inp, out))
        # the one target rule of papershelf.adapters (PEFT's): list = suffixes, str = regex
        if cfg.target_modules is not None:
            owners = {
                n: t for n, t in owners.items() if adapters.name_matches(n, cfg.target_modules)
            }
        if cfg.exclude_modules is not None:
            owners = {
                n: t for n, t in owners.items() if not adapters.name_matches(n, cfg.exclude_modules)
            }
        if not owners:
            raise KronAError(
                f"target_modules: no FFN block found for taps {taps} with target_modules={cfg.target_modules!r}"
            )
        return owners

    # ----- introspection -----
    def _block_names(self) -> list[str]:
        return [n for n, m in self.model.named_modules() if isinstance(m, KronABlock)]

    def adapter_layers(self) -> dict[str, nn.Module]:
        """Every KronA module (``KronALinear`` and ``KronABlock``) by dotted name."""
        return {
            n: m for n, m in self.model.named_modules() if isinstance(m, KronALinear | KronABlock)
        }

    def krona_modules(self) -> dict[str, KronALinear | KronABlock]:
        """Every KronA module of the wrapped model, by dotted name (``adapter_layers()``)."""
        return self.adapter_layers()  # type: ignore[return-value]

    @property
    def shapes(self) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:
        return {n: m.shapes for n, m in self.krona_modules().items()}

    def num_adapter_parameters(self) -> int:
        """KronA parameters only: ``Σ a1·a2 + b1·b2`` (plus learned residual scales)."""
        extra = sum(
            1
            for m in self.krona_modules().values()
            if isinstance(getattr(m, "res_scale", None), nn.Parameter)
        )
        return sum(num_params(s) for s in self.shapes.values()) + extra

    # ----- merge / unload (template, plus the block variants) -----
    def _check_mergeable(self, what: str) -> None:
        if self.adapter_config.variant != "linear":
            raise KronAError(f"{what}: " + NOT_MERGEABLE.format(v=self.adapter_config.variant))
        super()._check_mergeable(what)  # quantised base layers

    def unload(self) -> nn.Module:
        """Remove the adapters without merging and return the original model."""
        if self.adapter_config.variant == "linear":
            return super().unload()
        for name in self._block_names():
            owner_name, _, child = name.rpartition(".")
            owner = self.model.get_submodule(owner_name) if owner_name else self.model
            getattr(owner, child).detach()
            delattr(owner, child)
        return self.model

    merge = adapters.deprecated_alias("merge_adapter", "merge")
    unmerge = adapters.deprecated_alias("unmerge_adapter", "unmerge")

    # ----- export -----
    def _peft_adapter(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        from krona.export import peft_lokr_adapter

        return peft_lokr_adapter(self)

    def export_peft(self, save_directory: str | Path) -> Path:  # type: ignore[override]
        """Write a PEFT LoKr adapter equivalent to this one (see :mod:`krona.export`)."""
        return super().export_peft(save_directory)

    export_peft_lokr = adapters.deprecated_alias("export_peft", "export_peft_lokr")

    # ----- saving (what the template records; reading saved folders back) -----
    def _target_shapes(self) -> dict[str, list[int]]:
        return {
            n: [m.out_features, m.in_features] if isinstance(m, KronALinear) else [m.d_model] * 2
            for n, m in self.krona_modules().items()
        }

    def _extra_metadata(self) -> dict[str, Any]:
        return {
            "factor_shapes": {n: {"A": list(a), "B": list(b)} for n, (a, b) in self.shapes.items()}
        }

    @classmethod
    def _upgrade_saved_config(cls, raw: dict[str, Any], folder: str | Path) -> dict[str, Any]:
        """Read the nested layout of krona <= 0.1.0 (``"modules"`` + ``"config"``)."""
        if "modules" not in raw and "config" not in raw:
            return raw
        if raw.get("adapter_type") != "krona":
            return raw  # refused by the caller, naming the type
        try:
            config, modules = dict(raw["config"]), dict(raw["modules"])
            return {
                "adapter_type": "krona",
                "library_version": raw.get("version"),
                "target_shapes": {n: m["target_shape"] for n, m in modules.items()},
                "factor_shapes": {n: {"A": m["A"], "B": m["B"]} for n, m in modules.items()},
                **config,
            }
        except (KeyError, TypeError, ValueError):
            raise KronAError(
                f"adapter dir: {folder}/adapter_config.json lacks 'config' or 'modules'"
            ) from None

    @classmethod
    def _saved_targets(
        cls, base_model: nn.Module, config: KronAConfig, metadata: dict[str, Any]
    ) -> tuple[KronAConfig, None]:
        """Pin the config to the saved modules and factor shapes (after checking the base)."""
        shapes, factors = metadata["target_shapes"], metadata.get("factor_shapes")
        if not isinstance(factors, dict) or set(factors) != set(shapes):
            raise KronAError(
                "adapter dir: adapter_config.json must record factor_shapes for every module "
                "in target_shapes"
            )
        names = list(shapes)
        if config.variant == "linear":
            adapters.check_target_shapes(base_model, shapes)
            targets = names
        else:
            d = _model_width(base_model)
            for n, shape in shapes.items():
                if d is not None and list(shape) != [d, d]:
                    raise KronAError(
                        f"adapter: block {n!r} was saved for width {shape[0]} but this model has {d}"
                    )
            targets = [n.rpartition(".")[0] for n in names]  # the FFN owners
            missing = [t for t in targets if not _has(base_model, t)]
            if missing:
                raise KronAError(
                    f"adapter: the saved FFN block(s) {missing[:3]} do not exist in this base model"
                )
        # Shapes are keyed by the name ``shapes_for`` is asked with: the target (for a block,
        # its FFN owner, not the ``krona_block`` child the weights are saved under).
        config.target_modules = targets
        config.exclude_modules = None
        config.shapes = {
            t: {"A": tuple(factors[n]["A"]), "B": tuple(factors[n]["B"])}
            for t, n in zip(targets, names, strict=True)
        }
        return config, None


def _has(module: nn.Module, path: str) -> bool:
    try:
        module.get_submodule(path)
    except AttributeError:
        return False
    return True


def _model_width(model: nn.Module) -> int | None:
    cfg = getattr(model, "config", None)
    for key in ("hidden_size", "d_model", "n_embd", "dim"):
        value = getattr(cfg, key, None)
        if isinstance(value, int):
            return value
    return None


def _linears(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def _linear_width(module: nn.Module) -> int:
    """The input width of the first ``nn.Linear`` in ``module``."""
    lin = _linears(module)
    if not lin:
        raise KronAError(
            "ffn_taps: cannot infer the FFN width (no nn.Linear in the input module and no model.config)"
        )
    return lin[0].in_features


def _check_tap_width(owner: str, inp: nn.Module, out: nn.Module, width: int) -> None:
    lin_in, lin_out = _linears(inp), _linears(out)
    got_in = lin_in[0].in_features if lin_in else width
    got_out = lin_out[-1].out_features if lin_out else width
    if got_in != width or got_out != width:
        raise KronAError(
            f"ffn_taps: FFN at {owner!r} maps {got_in} -> {got_out} features but KronA^B needs "
            f"{width} -> {width} (input and output of the block must have the model width)"
        )
