"""``get_krona_model`` and ``KronAModel``: KronA adapters on any model whose targets are
``nn.Linear`` (variant ``"linear"``) or whose FFN blocks are in :data:`FFN_TAPS` (block
variants), in PEFT's shape, built on ``papershelf.adapters``.

Saved files: ``adapter_model.safetensors`` (keys ``base_model.model.<path>.krona_A`` /
``.krona_B``; block variants ``base_model.model.<ffn owner>.krona_block.krona_A`` ...) and
``adapter_config.json`` (the config, the effective scale, the variant, the factor shapes
and base shape of every module, ``"adapter_type": "krona"`` and the package version).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from papershelf import adapters
from torch import nn

from krona import __version__ as VERSION
from krona.config import KronAConfig, name_matches
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
        krona_config: the ``KronAConfig``.
        shapes: ``{module: ((a1, a2), (b1, b2))}`` of every adapter.
    """

    def __init__(self, model: nn.Module, config: KronAConfig) -> None:
        if not isinstance(config, KronAConfig):
            raise KronAError(f"config: expected a KronAConfig, got {type(config).__name__}")
        super().__init__(model)
        self.krona_config = config
        if config.variant == "linear":
            self._inject_linear()
        else:
            self._inject_blocks()
        self._trainable_modules = [*self._block_names(), *(config.modules_to_save or [])]
        adapters.mark_only_adapters_trainable(model, self._trainable_modules)

    # ----- injection -----
    def _inject_linear(self) -> None:
        cfg = self.krona_config
        names = adapters.resolve_target_modules(
            self.model, cfg.target_modules, cfg.exclude_modules, cfg.modules_to_save
        )

        def factory(name: str, linear: nn.Linear) -> KronALinear:
            shapes = cfg.shapes_for(name, linear.out_features, linear.in_features)
            return KronALinear(linear, shapes, cfg.scale, cfg.init, cfg.dropout, cfg.matmul_order)

        adapters.inject_adapters(self.model, names, factory)

    def _inject_blocks(self) -> None:
        cfg = self.krona_config
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
                cfg.res_scale_trainable,
                cfg.init,
                cfg.dropout,
                cfg.matmul_order,
                device=p.device,
                dtype=p.dtype,
            )
            owner.add_module(BLOCK_NAME, block)
            block.attach(owner.get_submodule(inp), owner.get_submodule(out))

    def _ffn_owners(self) -> dict[str, tuple[str, str]]:
        cfg = self.krona_config
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
        if cfg.target_modules is not None:
            owners = {
                n: t
                for n, t in owners.items()
                if any(name_matches(n, p) for p in cfg.target_modules)
            }
        if cfg.exclude_modules is not None:
            owners = {
                n: t
                for n, t in owners.items()
                if not any(name_matches(n, p) for p in cfg.exclude_modules)
            }
        if not owners:
            raise KronAError(
                f"target_modules: no FFN block found for taps {taps} with target_modules={cfg.target_modules!r}"
            )
        return owners

    # ----- introspection -----
    def _block_names(self) -> list[str]:
        return [n for n, m in self.model.named_modules() if isinstance(m, KronABlock)]

    def krona_modules(self) -> dict[str, KronALinear | KronABlock]:
        """Every KronA module of the wrapped model, by dotted name."""
        return {
            n: m for n, m in self.model.named_modules() if isinstance(m, KronALinear | KronABlock)
        }

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

    # ----- merge / unload / disable -----
    def _require_mergeable(self, what: str) -> None:
        if self.krona_config.variant != "linear":
            raise KronAError(f"{what}: " + NOT_MERGEABLE.format(v=self.krona_config.variant))

    def merge(self) -> None:
        """Merge every adapter into its base weight in place (variant ``"linear"`` only)."""
        self._require_mergeable("merge")
        for m in self.krona_modules().values():
            if not m.merged:
                m.merge()

    def unmerge(self) -> None:
        self._require_mergeable("unmerge")
        for m in self.krona_modules().values():
            if m.merged:
                m.unmerge()

    def merge_and_unload(self) -> nn.Module:
        """Merge ``W ← W₀ + s·kron(A, B)`` and return the plain model (only ``nn.Linear`` s left)."""
        self._require_mergeable("merge_and_unload")
        return adapters.merge_and_unload(self.model)

    def unload(self) -> nn.Module:
        """Remove the adapters without merging and return the original model."""
        if self.krona_config.variant == "linear":
            return adapters.unload(self.model)
        for name in self._block_names():
            owner_name, _, child = name.rpartition(".")
            owner = self.model.get_submodule(owner_name) if owner_name else self.model
            getattr(owner, child).detach()
            delattr(owner, child)
        return self.model

    @contextlib.contextmanager
    def disable_adapter(self) -> Iterator[None]:
        """Within the context the model computes the base model's outputs (unmerged only)."""
        mods = list(self.krona_modules().values())
        if any(m.merged for m in mods):
            raise KronAError("disable_adapter: the adapters are merged; call unmerge() first")
        with adapters.disabled_adapters(mods):
            yield

    def export_peft_lokr(self, folder: str | Path) -> Path:
        """Write a PEFT LoKr adapter equivalent to this one (see ``krona.export``)."""
        from krona.export import export_peft_lokr

        return export_peft_lokr(self, folder)

    # ----- saving -----
    def adapter_config_dict(self) -> dict[str, Any]:
        cfg = self.krona_config
        mods = self.krona_modules()
        return {
            "adapter_type": "krona",
            "version": VERSION,
            "variant": cfg.variant,
            "scale": cfg.scale,
            "res_scale": cfg.res_scale if cfg.variant == "block_res" else None,
            "modules": {
                n: {
                    "A": list(m.shapes[0]),
                    "B": list(m.shapes[1]),
                    "target_shape": [m.out_features, m.in_features]
                    if isinstance(m, KronALinear)
                    else [m.d_model, m.d_model],
                }
                for n, m in mods.items()
            },
            "config": cfg.to_dict(),
        }

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write ``adapter_model.safetensors`` + ``adapter_config.json`` atomically."""
        return adapters.save_adapter(
            folder, self.model, self.adapter_config_dict(), self._trainable_modules
        )

    @classmethod
    def from_pretrained(
        cls, model: nn.Module, folder: str | Path, is_trainable: bool = False
    ) -> KronAModel:
        """Re-create the adapters saved in ``folder`` on ``model`` (the same base model) and
        load their weights; refuses a folder that is not KronA or whose shapes do not fit."""
        saved = adapters.read_adapter_config(folder)
        if saved.get("adapter_type") != "krona":
            raise KronAError(
                f"adapter dir: {folder} holds adapter_type {saved.get('adapter_type')!r}, not 'krona'"
            )
        try:
            cfg_dict, modules = dict(saved["config"]), dict(saved["modules"])
        except (KeyError, TypeError):
            raise KronAError(
                f"adapter dir: {folder}/adapter_config.json lacks 'config' or 'modules'"
            ) from None
        cfg = KronAConfig.from_dict(cfg_dict)
        names = list(modules)
        if cfg.variant == "linear":
            adapters.check_target_shapes(model, {n: modules[n]["target_shape"] for n in names})
            targets = names
        else:
            d = _model_width(model)
            for n, m in modules.items():
                if d is not None and m["target_shape"] != [d, d]:
                    raise KronAError(
                        f"adapter: block {n!r} was saved for width {m['target_shape'][0]} but this model has {d}"
                    )
            targets = [n.rpartition(".")[0] for n in names]  # the FFN owners
        # Shapes are keyed by the name ``shapes_for`` is asked with: the target (for a block,
        # its FFN owner, not the ``krona_block`` child the weights are saved under).
        cfg.target_modules = targets
        cfg.exclude_modules = None
        cfg.shapes = {
            t: {"A": tuple(m["A"]), "B": tuple(m["B"])}
            for t, m in zip(targets, modules.values(), strict=True)
        }
        wrapped = cls(model, cfg)
        if sorted(wrapped.krona_modules()) != sorted(names):
            raise KronAError(
                f"adapter: the saved modules {names[:3]}... do not all exist in this base model"
            )
        adapters.load_adapter(folder, model, wrapped._trainable_modules)
        if not is_trainable:
            for p in model.parameters():
                p.requires_grad_(False)
            model.eval()
        return wrapped


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
