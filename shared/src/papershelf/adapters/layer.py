"""``AdapterLayer``: the base of an adapter that wraps one frozen ``nn.Linear`` (or GPT-2 ``Conv1D``).

A method's layer (PEFT's ``BaseTunerLayer`` role) subclasses :class:`AdapterLayer`, adds its
own parameters in ``__init__`` (after ``super().__init__(base_layer)``), each named with the
method's prefix (``lora_A``, ``krona_A``, ...), and implements

* ``adapter_forward(x: (..., in)) -> (..., out)``: the adapter's additive output;
* ``delta_weight() -> (out, in)``: the same update as a dense matrix (for merging).

It inherits ``forward(x) = base_layer(x) + adapter_forward(x)`` (just ``base_layer(x)`` while
``merged`` or ``disabled``), ``merge(safe_merge=False)``, ``unmerge()``,
``adapter_state_dict()`` (every parameter not under ``base_layer``, keyed relative to the
layer, e.g. ``{"lora_A.weight": ..., "lora_B.weight": ...}``) and
``load_adapter_state_dict(sd)``. ``in_features``/``out_features``/``weight``/``bias`` mirror
the base layer.

``disabled_adapters(modules)`` is the context manager behind ``disable_adapter()``: it sets
each module's ``disabled`` flag (the base model's outputs) and clears it on exit.

Transposed bases (PEFT's ``fan_in_fan_out``)
    transformers' GPT-2 ``Conv1D`` computes ``x @ W + b`` with ``W: (in, out)``, the transpose of
    ``nn.Linear``'s. :func:`is_adaptable` accepts both; the layer records ``fan_in_fan_out``
    (true for ``Conv1D``), keeps its adapter in the ``nn.Linear`` orientation (``delta_weight()``
    is always ``(out, in)``) and transposes ΔW only where it touches the base weight
    (:meth:`AdapterLayer.to_base_layout`, used by ``merge``/``unmerge``).
    :func:`base_features` gives ``(out_features, in_features)`` of either.

Quantised bases
    :func:`quantization_of` names a quantised base layer (bitsandbytes ``Linear4bit`` /
    ``Linear8bitLt``, an integer or float8 weight, a tensor-subclass weight such as torchao's,
    GPTQ/AWQ ``qweight``); ``merge``/``unmerge`` refuse such a layer with one line (adding ΔW
    would need dequantising and re-quantising the weight).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import torch
from torch import nn

from papershelf.errors import UserError

__all__ = [
    "AdapterLayer",
    "base_features",
    "check_not_quantized",
    "disabled_adapters",
    "is_adaptable",
    "is_conv1d",
    "quantization_of",
]

_QUANT_WEIGHT_CLASSES = ("Params4bit", "Int8Params")
_QUANT_LAYER_MARKERS = ("4bit", "8bit", "Quant", "GPTQ", "AWQ", "HQQ", "FP8")


def is_conv1d(module: nn.Module) -> bool:
    """Whether ``module`` is transformers' GPT-2 ``Conv1D`` (``x @ W + b``, ``W: (in, out)``).

    Recognised by duck typing (class name ``Conv1D``, an ``nf`` attribute, a 2-D weight) so
    this module does not import transformers.
    """
    weight = getattr(module, "weight", None)
    return (
        type(module).__name__ == "Conv1D"
        and hasattr(module, "nf")
        and isinstance(weight, torch.Tensor)
        and weight.dim() == 2
    )


def is_adaptable(module: nn.Module) -> bool:
    """``nn.Linear`` or GPT-2 ``Conv1D``: the layers an :class:`AdapterLayer` can wrap."""
    return isinstance(module, nn.Linear) or is_conv1d(module)


def base_features(module: nn.Module) -> tuple[int, int]:
    """``(out_features, in_features)`` of an ``nn.Linear`` or a ``Conv1D`` (weight ``(in, out)``)."""
    if is_conv1d(module):
        n_in, n_out = module.weight.shape
        return int(n_out), int(n_in)
    return int(module.out_features), int(module.in_features)


def quantization_of(module: nn.Module) -> str | None:
    """A short description of why ``module`` is a quantised layer, or ``None`` if it is not."""
    weight = getattr(module, "weight", None)
    kind = type(module).__name__
    if hasattr(module, "qweight"):
        return f"{kind} with a packed qweight"
    if any(marker in kind for marker in _QUANT_LAYER_MARKERS):
        return kind
    if weight is None:
        return None
    data = weight.data if isinstance(weight, nn.Parameter) else weight
    if type(weight).__name__ in _QUANT_WEIGHT_CLASSES or hasattr(weight, "quant_state"):
        return f"{kind} with a {type(weight).__name__} weight"
    if not data.is_floating_point() or data.element_size() < 2:
        return f"{kind} with a {str(data.dtype).removeprefix('torch.')} weight"
    if type(data) is not torch.Tensor:
        return f"{kind} with a {type(data).__name__} weight"
    return None


def check_not_quantized(module: nn.Module, what: str, name: str | None = None) -> None:
    """Raise a one-line :class:`UserError` when ``module`` is quantised (``what``: the operation)."""
    reason = quantization_of(module)
    if reason is not None:
        where = f"{name!r}" if name else "the base layer"
        raise UserError(
            f"{what}: {where} is quantised ({reason}); merging would have to dequantise it. "
            "Load the base model unquantised (e.g. torch_dtype=torch.bfloat16) to merge, or "
            "keep the adapter unmerged"
        )


class AdapterLayer(nn.Module):
    """Base class of an adapter wrapping a frozen ``nn.Linear`` or ``Conv1D`` (``base_layer``).

    Subclasses add their parameters in ``__init__`` (after ``super().__init__(base_layer)``)
    and implement :meth:`adapter_forward` and :meth:`delta_weight` (always ``(out, in)``,
    the ``nn.Linear`` orientation, whatever the base's layout).
    """

    def __init__(self, base_layer: nn.Module) -> None:
        super().__init__()
        if not is_adaptable(base_layer):
            raise UserError(
                "base_layer: only nn.Linear (or GPT-2 Conv1D) can be adapted, got "
                f"{type(base_layer).__name__}"
            )
        self.base_layer = base_layer
        self.fan_in_fan_out = is_conv1d(base_layer)
        self.merged = False
        self.disabled = False
        for p in base_layer.parameters():
            p.requires_grad_(False)

    @property
    def in_features(self) -> int:
        return base_features(self.base_layer)[1]

    @property
    def out_features(self) -> int:
        return base_features(self.base_layer)[0]

    @property
    def weight(self) -> torch.Tensor:
        """The base layer's weight, in its own layout: ``(out, in)`` for ``nn.Linear``,
        ``(in, out)`` for ``Conv1D`` (merged weight while ``merged``)."""
        return self.base_layer.weight

    def to_base_layout(self, delta: torch.Tensor) -> torch.Tensor:
        """``delta: (out, in)`` in the base weight's layout (transposed for ``Conv1D``)."""
        return delta.T if self.fan_in_fan_out else delta

    @property
    def bias(self) -> torch.Tensor | None:
        return self.base_layer.bias

    def get_base_layer(self) -> nn.Module:
        """The wrapped ``nn.Linear`` / ``Conv1D`` (PEFT's name)."""
        return self.base_layer

    def adapter_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The adapter's additive output, ``x: (..., in) -> (..., out)``."""
        raise NotImplementedError

    def delta_weight(self) -> torch.Tensor:
        """The adapter's update as a dense ``(out, in)`` matrix: forward == base + x @ ΔW.T."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base_layer(x)
        if self.merged or self.disabled:
            return out
        return out + self.adapter_forward(x).to(out.dtype)

    @torch.no_grad()
    def merge(self, safe_merge: bool = False) -> None:
        """Add ``delta_weight()`` into the base weight; with ``safe_merge`` refuse non-finite.

        Refuses a quantised base layer (:func:`check_not_quantized`).
        """
        if self.merged:
            raise UserError("merge: this adapter layer is already merged; call unmerge() first")
        check_not_quantized(self.base_layer, "merge")
        weight = self.base_layer.weight
        delta = self.to_base_layout(self.delta_weight()).to(weight.dtype)
        if safe_merge:
            merged = weight + delta
            if not torch.isfinite(merged).all():
                raise UserError("merge: the merged weight has NaN/inf values; adapter is broken")
            weight.copy_(merged)
        else:
            weight.add_(delta)
        self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Subtract the merged update again (restores the base weight to fp tolerance)."""
        if not self.merged:
            raise UserError("unmerge: this adapter layer is not merged")
        weight = self.base_layer.weight
        weight.sub_(self.to_base_layout(self.delta_weight()).to(weight.dtype))
        self.merged = False

    def adapter_state_dict(self) -> dict[str, torch.Tensor]:
        """Every parameter outside ``base_layer``, keyed relative to this layer."""
        return {
            name: p for name, p in self.named_parameters() if not name.startswith("base_layer.")
        }

    @torch.no_grad()
    def load_adapter_state_dict(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Copy tensors (keys as in :meth:`adapter_state_dict`) into this layer's parameters."""
        own = self.adapter_state_dict()
        for key, value in state_dict.items():
            if key not in own:
                raise UserError(f"adapter weights: unexpected key {key!r} for this layer")
            if tuple(own[key].shape) != tuple(value.shape):
                raise UserError(
                    f"adapter weights: {key!r} has shape {tuple(value.shape)}, "
                    f"expected {tuple(own[key].shape)}"
                )
            own[key].copy_(value)


@contextlib.contextmanager
def disabled_adapters(modules: Iterable[nn.Module]) -> Iterator[None]:
    """Within the block each module's ``disabled`` flag is set: it computes its base output."""
    modules = list(modules)
    for module in modules:
        module.disabled = True
    try:
        yield
    finally:
        for module in modules:
            module.disabled = False
