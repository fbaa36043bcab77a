"""``krona bench``: KronA against the baselines a user would otherwise pick, as time ratios
measured in the same process (``papershelf.bench``).

1. Training step on MiniLM (batch 32): KronA 16×16⊗24×24 / LoRA r=1 (equal budget), also
   LoRA r=8 and, with the ``bench-krona`` group installed, PEFT's LoRA r=1.
2. One ``d×d`` layer, forward + backward, as ``d`` grows 256 … 4096: the factorised product
   / the explicit ``x @ kron(A, B)ᵀ`` (and PEFT LoKr as a full two-factor adapter, which
   also materialises ``A⊗B``), with peak memory.
3. Inference: merged KronA / base, KronA^B / base.

It runs on ``PAPER.bench_threads`` (1) torch threads, set by papershelf's runner
(``PAPERSHELF_THREADS`` overrides).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from papershelf.bench import BenchReport, BenchRow, compare
from papershelf.train import training_step
from torch import nn

from krona.baselines import add_lora
from krona.comparison import build_inference_models
from krona.config import KronAConfig
from krona.functional import factorization, kron_linear
from krona.model import get_krona_model
from krona.naive import naive_kron_linear

__all__ = ["run"]


def interleaved(
    cases: dict[str, Callable[[], object]], baseline: str, params: dict, warmup: int, repeats: int
) -> list[BenchRow]:
    """``papershelf.bench.compare`` timing the cases round-robin, so that load changes on a
    shared machine hit every case alike."""
    return compare(cases, baseline, params=params, warmup=warmup, repeats=repeats, round_robin=True)


def _peft():
    try:
        import peft
    except ImportError:
        return None
    return peft


def _hidden_square_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(**batch).last_hidden_state.float().square().mean()


def _train_step(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> Callable[[], float]:
    """One AdamW step (forward, backward, update) on a fixed batch, as a no-argument call."""
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()
    step = training_step(model, _hidden_square_loss, opt)
    batch = {"input_ids": ids, "attention_mask": mask}
    return lambda: step(batch)


def step_rows(quick: bool) -> list[BenchRow]:
    from papershelf.models import load_model

    encoder, _ = load_model("offline")
    batch, seq = (32, 32) if quick else (32, 64)
    ids = torch.randint(1000, 20000, (batch, seq), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    cases = {
        "lora r=1 (ours, 9216 params)": _train_step(
            add_lora(copy.deepcopy(encoder), r=1), ids, mask
        ),
        "krona 16x16⊗24x24 (9984 params)": _train_step(
            get_krona_model(copy.deepcopy(encoder), KronAConfig()), ids, mask
        ),
        "lora r=8 (ours)": _train_step(add_lora(copy.deepcopy(encoder), r=8), ids, mask),
    }
    peft = _peft()
    if peft is not None:
        cfg = peft.LoraConfig(r=1, lora_alpha=1, target_modules=["query", "value"])
        cases["peft lora r=1"] = _train_step(
            peft.get_peft_model(copy.deepcopy(encoder), cfg), ids, mask
        )
    return interleaved(
        cases,
        "lora r=1 (ours, 9216 params)",
        {"what": "train step", "batch": batch, "seq": seq},
        warmup=2,
        repeats=7 if quick else 15,
    )


def product_rows(quick: bool) -> list[BenchRow]:
    tokens = 256 if quick else 1024
    rows: list[BenchRow] = []
    peft = _peft()
    for d in (256, 512, 1024, 2048, 4096):
        (a1, b1), (a2, b2) = factorization(d), factorization(d)
        g = torch.Generator().manual_seed(d)
        A = torch.randn(a1, a2, generator=g, requires_grad=True)
        B = torch.randn(b1, b2, generator=g, requires_grad=True)
        x = torch.randn(tokens, d, generator=g, requires_grad=True)

        def fwd_bwd(fn: Callable[[], torch.Tensor]) -> Callable[[], None]:
            return lambda: fn().sum().backward()

        cases = {
            "explicit x @ kron(A,B).T": fwd_bwd(lambda x=x, A=A, B=B: naive_kron_linear(x, A, B)),
            "fast kron_linear": fwd_bwd(lambda x=x, A=A, B=B: kron_linear(x, A, B)),
        }
        if peft is not None:
            cases["peft lokr (full factors)"] = fwd_bwd(_lokr_layer(peft, d, b1, b2, x))
        rows += compare(
            cases,
            baseline="explicit x @ kron(A,B).T",
            params={"what": "fwd+bwd one layer", "d": d, "tokens": tokens},
            warmup=1,
            repeats=3 if quick else 7,
            memory=True,
        )
    return rows


def _lokr_layer(peft, d: int, b1: int, b2: int, x: torch.Tensor) -> Callable[[], torch.Tensor]:
    class One(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(d, d)

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            return self.lin(h)

    r = (max(b1, b2) + 1) // 2
    model = peft.get_peft_model(
        One(), peft.LoKrConfig(r=r, alpha=r, target_modules=["lin"], init_weights=False)
    )
    return lambda: model(x)


def inference_rows(quick: bool) -> list[BenchRow]:
    from papershelf.models import load_model

    encoder, _ = load_model("offline")
    batch, seq = (16, 64) if quick else (32, 64)
    ids = torch.randint(1000, 20000, (batch, seq), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    models = build_inference_models(encoder)

    def fwd(m: nn.Module) -> Callable[[], None]:
        def call() -> None:
            with torch.no_grad():
                m(input_ids=ids, attention_mask=mask)

        return call

    return interleaved(
        {n: fwd(m) for n, m in models.items()},
        "base",
        {"what": "inference", "batch": batch, "seq": seq},
        warmup=2,
        repeats=7 if quick else 15,
    )


def run(quick: bool = True) -> BenchReport:
    rows = step_rows(quick) + product_rows(quick) + inference_rows(quick)
    notes = [
        f"torch threads: {torch.get_num_threads()} (Paper(bench_threads=1); PAPERSHELF_THREADS "
        "overrides); each group's ratios are to its own baseline",
        "train step: forward + backward + AdamW on MiniLM, adapters on query/value of 6 layers",
        "fwd+bwd one layer: A, B from factorization(d) (√ split); peak MiB is process RSS growth (CPU)",
    ]
    if _peft() is None:
        notes.append("peft not installed: PEFT rows skipped (uv sync --group bench-krona)")
    return BenchReport(
        "KronA vs LoRA / explicit Kronecker product / base inference",
        rows,
        baseline="per group (see 'what')",
        notes=notes,
    )
