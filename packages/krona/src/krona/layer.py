"""KronA modules: ``KronALinear`` (KronA, parallel to one ``nn.Linear``) and ``KronABlock``
(KronA^B / KronA^B_res, parallel to a whole FFN block).

KronA (arXiv 2212.10650, Sec. 3; our row-major form of the paper's ``Y = XW + s·X[A⊗B]``):
``y = W₀x + bias + s·(A⊗B)·drop(x)`` with ``A: (a1, a2)``, ``B: (b1, b2)``,
``a1·b1 = out_features`` and ``a2·b2 = in_features``. KronA^B: ``Y = FFN(X) + s·(A⊗B)X``;
KronA^B_res adds ``s_res·X``.
"""

from __future__ import annotations

import math

import torch
from papershelf.adapters import AdapterLayer, base_features, is_adaptable
from torch import nn

from krona.errors import KronAError
from krona.functional import Order, Shapes, choose_order, kron_linear, kron_matrix

NOT_MERGEABLE = "cannot be merged: the FFN between input and output is nonlinear (variant {v!r}); only variant 'linear' merges"

__all__ = ["KronABlock", "KronALinear", "KronAMixin"]


class KronAMixin:
    """The two Kronecker factors, their initialisation and the factorised product.

    Mixed into an ``nn.Module``; ``_init_factors`` must run after ``nn.Module.__init__``.
    """

    krona_A: nn.Parameter
    krona_B: nn.Parameter

    def _init_factors(
        self,
        shapes: Shapes,
        scale: float,
        init: str,
        dropout: float,
        order: Order,
        device: torch.device | None,
        dtype: torch.dtype | None,
    ) -> None:
        (a1, a2), (b1, b2) = shapes
        kw = {"device": device, "dtype": dtype}
        self.krona_A = nn.Parameter(torch.empty(a1, a2, **kw))
        self.krona_B = nn.Parameter(torch.empty(b1, b2, **kw))
        self.scale = float(scale)
        self.init = init
        self.order = choose_order(shapes, order)
        self.krona_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.reset_krona_parameters()

    @property
    def shapes(self) -> Shapes:
        return (tuple(self.krona_A.shape), tuple(self.krona_B.shape))  # type: ignore[return-value]

    @torch.no_grad()
    def reset_krona_parameters(self) -> None:
        """One factor zero (so ``ΔW = 0`` at step 0), the other Kaiming-uniform (a = √5)."""
        zero, other = (
            (self.krona_A, self.krona_B) if self.init == "zero_A" else (self.krona_B, self.krona_A)
        )
        zero.zero_()
        nn.init.kaiming_uniform_(other, a=math.sqrt(5))

    def krona_delta(self, x: torch.Tensor) -> torch.Tensor:
        """``s·(A⊗B)·drop(x)``: ``(..., a2·b2)`` → ``(..., a1·b1)``, never forming ``A⊗B``."""
        A, B = self.krona_A.to(x.dtype), self.krona_B.to(x.dtype)
        return self.scale * kron_linear(self.krona_dropout(x), A, B, self.order)

    def delta_weight(self) -> torch.Tensor:
        """``s·kron(A, B)`` in fp32 (fp64 for fp64 factors), shape ``(a1·b1, a2·b2)`` = ``(out, in)``."""
        dtype = torch.promote_types(self.krona_A.dtype, torch.float32)
        return self.scale * kron_matrix(self.krona_A.to(dtype), self.krona_B.to(dtype))


class KronALinear(KronAMixin, AdapterLayer):
    """A frozen ``nn.Linear`` (or GPT-2 ``Conv1D``) plus a parallel Kronecker update (a
    ``papershelf`` AdapterLayer).

    Args:
        base_layer: the ``nn.Linear`` or ``Conv1D`` to adapt (its parameters are frozen); a
            ``Conv1D`` (weight ``(in, out)``) gets the same ``A⊗B``: ``(out, in)``, transposed
            only when merged (PEFT's ``fan_in_fan_out``).
        shapes: ``((a1, a2), (b1, b2))`` with ``a1·b1 = out_features``, ``a2·b2 = in_features``.
        scale: ``s``. init, dropout, order: see ``KronAConfig``.

    ``forward(x: (..., in)) -> (..., out)`` is ``base_layer(x) + s·(A⊗B)·drop(x)``;
    ``delta_weight() -> (out, in)``; ``merge()`` / ``unmerge()`` / ``merged`` come from
    ``AdapterLayer``.
    """

    def __init__(
        self,
        base_layer: nn.Module,
        shapes: Shapes,
        scale: float = 1.0,
        init: str = "zero_A",
        dropout: float = 0.0,
        order: Order = "auto",
    ) -> None:
        if not is_adaptable(base_layer):
            raise KronAError(
                "target: KronALinear adapts nn.Linear (or GPT-2 Conv1D) only, got "
                f"{type(base_layer).__name__}"
            )
        (a1, a2), (b1, b2) = shapes
        d_out, d_in = base_features(base_layer)
        if a1 * b1 != d_out or a2 * b2 != d_in:
            raise KronAError(
                f"shapes: A={a1}x{a2}, B={b1}x{b2} give ({a1 * b1}, {a2 * b2}) but the layer is "
                f"(d_out, d_in) = ({d_out}, {d_in})"
            )
        AdapterLayer.__init__(self, base_layer)
        w = base_layer.weight
        self._init_factors(
            shapes,
            scale,
            init,
            dropout,
            order,
            w.device,
            w.dtype if w.is_floating_point() else None,
        )

    def adapter_forward(self, x: torch.Tensor) -> torch.Tensor:
        """``s·(A⊗B)·drop(x)``: ``(..., in)`` → ``(..., out)``."""
        return self.krona_delta(x)

    def extra_repr(self) -> str:
        (a1, a2), (b1, b2) = self.shapes
        return f"A={a1}x{a2}, B={b1}x{b2}, scale={self.scale}, order={self.order}, merged={self.merged}"


class KronABlock(KronAMixin, nn.Module):
    """KronA^B (``res_scale=None``) or KronA^B_res in parallel with an FFN block.

    ``forward(X: (..., d_model)) = ffn(X) + s·(A⊗B)X [+ s_res·X]``. With ``ffn=None`` the
    block is a tap for FFNs split over two modules (BERT's ``intermediate`` and
    ``output.dense``): :meth:`attach` records the input module's input and adds
    :meth:`delta` to the output module's output.

    Args:
        ffn: the FFN module ``(..., d_model) -> (..., d_model)``, or ``None`` (tap mode).
        d_model: the FFN's input and output width.
        shapes: ``((a1, a2), (b1, b2))`` with ``a1·b1 = a2·b2 = d_model``.
        scale: ``s``; res_scale: ``s_res`` (``None`` for KronA^B); res_scale_trainable:
            learn ``s_res``.
    """

    def __init__(
        self,
        ffn: nn.Module | None,
        d_model: int,
        shapes: Shapes,
        scale: float = 1.0,
        res_scale: float | None = None,
        res_scale_trainable: bool = False,
        init: str = "zero_A",
        dropout: float = 0.0,
        order: Order = "auto",
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        (a1, a2), (b1, b2) = shapes
        if a1 * b1 != d_model or a2 * b2 != d_model:
            raise KronAError(
                f"shapes: A={a1}x{a2}, B={b1}x{b2} give ({a1 * b1}, {a2 * b2}); the FFN block needs ({d_model}, {d_model})"
            )
        self.ffn = ffn
        self.d_model = d_model
        self.merged = False
        self.disabled = False
        if ffn is not None and device is None:
            p = next(ffn.parameters(), None)
            device, dtype = (p.device, p.dtype) if p is not None else (None, None)
        self._init_factors(shapes, scale, init, dropout, order, device, dtype)
        if res_scale is None:
            self.res_scale = None
        elif res_scale_trainable:
            self.res_scale = nn.Parameter(
                torch.tensor(float(res_scale), device=device, dtype=dtype)
            )
        else:
            self.register_buffer(
                "res_scale", torch.tensor(float(res_scale), device=device, dtype=dtype)
            )
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._tapped: torch.Tensor | None = None

    @property
    def variant(self) -> str:
        return "block" if self.res_scale is None else "block_res"

    def delta(self, x: torch.Tensor) -> torch.Tensor:
        """``s·(A⊗B)·drop(x) [+ s_res·x]``: ``(..., d_model)`` → ``(..., d_model)``."""
        out = self.krona_delta(x)
        if self.res_scale is not None:
            out = out + self.res_scale.to(x.dtype) * x
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.ffn is None:
            return self.delta(x)
        y = self.ffn(x)
        return y if self.disabled else y + self.delta(x).to(y.dtype)

    def attach(self, input_module: nn.Module, output_module: nn.Module) -> None:
        """Tap mode: add ``delta(input of input_module)`` to the output of ``output_module``."""
        if self.ffn is not None:
            raise KronAError("ffn_taps: this KronABlock already wraps an FFN module")
        self._handles.append(input_module.register_forward_pre_hook(self._record))
        self._handles.append(output_module.register_forward_hook(self._add))

    def detach(self) -> None:
        """Remove the tap hooks."""
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self._tapped = None

    def _record(self, module: nn.Module, args: tuple) -> None:
        self._tapped = args[0]

    def _add(self, module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        x, self._tapped = self._tapped, None
        if x is None:
            raise RuntimeError("KronABlock: the FFN output module ran before its input module")
        return output if self.disabled else output + self.delta(x).to(output.dtype)

    def merge(self) -> None:
        raise KronAError(NOT_MERGEABLE.format(v=self.variant))

    def unmerge(self) -> None:
        raise KronAError(NOT_MERGEABLE.format(v=self.variant))

    def extra_repr(self) -> str:
        (a1, a2), (b1, b2) = self.shapes
        mode = "wrap" if self.ffn is not None else "tap"
        return f"{self.variant} ({mode}), A={a1}x{a2}, B={b1}x{b2}, scale={self.scale}"
