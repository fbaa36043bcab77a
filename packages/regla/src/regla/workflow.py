"""What the CLI commands do, as plain functions: train, generate, linearize, gate statistics.

Every optimisation runs through ``papershelf.train.train``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from papershelf.checkpoint import load_weights, save_weights
from papershelf.errors import UserError
from papershelf.io import atomic_write_json
from papershelf.train import TrainConfig, train
from torch import nn

from regla.config import LMConfig, ReGLAConfig, TrainJobConfig
from regla.hf import linearize
from regla.layer import ReGLAAttention
from regla.model import ReGLALM, count_params
from regla.tasks import mqar_batch, text_batches

__all__ = [
    "gate_stats",
    "generate_from_run",
    "linearize_model",
    "lm_loss",
    "load_linearized",
    "load_run",
    "mqar_accuracy",
    "train_lm",
]


def lm_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean next-token cross-entropy over labels != -100 (labels already shifted)."""
    logits, _ = model(batch["input_ids"])
    return F.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=-100)


@torch.no_grad()
def mqar_accuracy(model: nn.Module, batch: dict[str, torch.Tensor]) -> float:
    """Recall accuracy: argmax == value at the query positions."""
    logits, _ = model(batch["input_ids"])
    keep = batch["labels"] != -100
    return float((logits.argmax(-1)[keep] == batch["labels"][keep]).float().mean())


def _data(job: TrainJobConfig):
    if job.task == "text":
        return text_batches(job.data, job.batch_size, job.seq_len, job.seed)
    if job.task == "mqar":
        return lambda step: mqar_batch(
            job.batch_size, job.seq_len, job.lm.vocab_size, job.num_pairs, job.seed, step
        )
    # "decay" as an LM task: recall the token seen `lag` steps ago is too easy; use MQAR with 1 pair
    return lambda step: mqar_batch(
        job.batch_size, job.seq_len, job.lm.vocab_size, 1, job.seed, step
    )


def train_lm(
    job: TrainJobConfig, out: str | Path | None = None, progress: bool = True
) -> dict[str, Any]:
    """Train a tiny ReGLA LM per ``job``; with ``out``, write model.safetensors, its config and metrics.json.

    Returns the metrics (final loss, eval loss, recall accuracy for MQAR, parameters, wall time)
    and the model under ``"model"``.
    """
    torch.manual_seed(job.seed)
    if job.task == "text":
        job = job.replace(lm=job.lm.replace(vocab_size=256))
    model = ReGLALM(job.lm)
    data = _data(job)
    eval_batch = data(10_000_000)
    state = train(
        model,
        data,
        lm_loss,
        TrainConfig(
            max_steps=job.steps,
            lr=job.lr,
            optimizer="adamw",
            max_grad_norm=1.0,
            warmup_steps=min(20, job.steps // 10),
            schedule="cosine",
            seed=job.seed,
            progress=progress,
        ),
    )
    model.eval()
    with torch.no_grad():
        metrics: dict[str, Any] = {
            "final_train_loss": float(sum(state.losses[-10:]) / len(state.losses[-10:])),
            "eval_loss": float(lm_loss(model, eval_batch)),
            "params": count_params(model),
            "steps": job.steps,
            "wall_seconds": state.wall_seconds,
        }
        if job.task in ("mqar", "decay"):
            metrics["recall_accuracy"] = mqar_accuracy(model, eval_batch)
    if out is not None:
        out = Path(out)
        save_weights(out, model.state_dict(), {"job": job.to_dict()})
        atomic_write_json(out / "metrics.json", metrics)
    return {**metrics, "model": model}


def load_run(run_dir: str | Path) -> ReGLALM:
    """The model a ``train_lm`` run saved in ``run_dir``."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"run: {run_dir} is not a folder written by `regla train`")
    state, cfg = load_weights(run_dir)
    if cfg is None or "job" not in cfg:
        raise UserError(f"run: {run_dir} has no model_config.json with a 'job' entry")
    job = TrainJobConfig.from_dict(cfg["job"])
    lm = job.lm.replace(vocab_size=256) if job.task == "text" else job.lm
    model = ReGLALM(lm)
    model.load_state_dict(state)
    return model.eval()


def generate_from_run(run_dir: str | Path, prompt_ids: list[int], max_new: int) -> list[int]:
    """Greedy continuation of ``prompt_ids`` by the model in ``run_dir``."""
    model = load_run(run_dir)
    vocab = model.config.vocab_size
    if not prompt_ids:
        raise UserError("prompt-ids: must hold at least one token id, got none")
    bad = [i for i in prompt_ids if not 0 <= i < vocab]
    if bad:
        raise UserError(f"prompt-ids: must be in 0..{vocab - 1}, got {bad[:5]}")
    if max_new < 0:
        raise UserError(f"max-new: must be >= 0, got {max_new}")
    out = model.generate(torch.tensor([prompt_ids]), max_new)
    return out[0].tolist()


def linearize_model(
    model_dir: str | Path | None,
    out: str | Path,
    layers: str | list[int] = "all",
    regla: ReGLAConfig | None = None,
    steps: int = 0,
    seed: int = 0,
    tiny: bool = False,
) -> dict[str, Any]:
    """Load a local HF decoder (or a tiny random Llama with ``tiny``), linearise it, fine-tune
    ``steps`` steps on MQAR-lite (0: none), and save weights (safetensors) + configs in ``out``."""
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(seed)
    if tiny:
        from papershelf.models import tiny_decoder_config

        model = AutoModelForCausalLM.from_config(tiny_decoder_config("llama", vocab_size=64))
    else:
        if model_dir is None:
            raise UserError(
                "model_dir: give a local model folder, or --tiny for a tiny random Llama"
            )
        path = Path(model_dir)
        if not path.is_dir():
            raise UserError(
                f"model_dir: local path {str(path)!r} does not exist (no hub access here); "
                "pass a folder written by save_pretrained, or --tiny"
            )
        try:
            AutoConfig.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"model_dir: cannot load {str(path)!r} ({first[:160]})") from None
    linearize(model, regla, layers)
    metrics: dict[str, Any] = {"regla_layers": model.regla_layers, "steps": steps}
    if steps:
        vocab = model.config.vocab_size

        def loss_fn(m, batch):
            logits = m(input_ids=batch["input_ids"]).logits
            return F.cross_entropy(
                logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=-100
            )

        state = train(
            model,
            lambda step: mqar_batch(8, 64, min(vocab, 64), 4, seed, step),
            loss_fn,
            TrainConfig(max_steps=steps, lr=1e-3, max_grad_norm=1.0, seed=seed, progress=False),
        )
        metrics["final_train_loss"] = state.losses[-1]
    out = Path(out)
    save_weights(
        out,
        model.state_dict(),
        {
            "hf_config": model.config.to_dict(),
            "regla": model.regla_config.to_dict(),
            "regla_layers": model.regla_layers,
        },
    )
    atomic_write_json(out / "metrics.json", metrics)
    return {**metrics, "model": model}


def load_linearized(folder: str | Path) -> nn.Module:
    """Rebuild a model saved by ``linearize_model`` (config -> linearise -> load weights)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    state, cfg = load_weights(folder)
    if cfg is None or "hf_config" not in cfg:
        raise UserError(f"model: {folder} has no model_config.json written by `regla linearize`")
    hf = dict(cfg["hf_config"])
    hf_config = AutoConfig.for_model(hf.pop("model_type"), **hf)
    model = AutoModelForCausalLM.from_config(hf_config)
    linearize(
        model, ReGLAConfig.from_dict(cfg["regla"]), cfg["regla_layers"], init_from_softmax=False
    )
    model.load_state_dict(state, strict=False)
    missing = set(model.state_dict()) - set(state)
    if missing - {"lm_head.weight"}:
        raise UserError(f"model: weights in {folder} miss {sorted(missing)[:5]}")
    return model.eval()


@torch.no_grad()
def gate_stats(model: nn.Module, inputs: Any, bins: int = 20) -> dict[str, dict[str, Any]]:
    """Histogram of the effective gates F = exp(log F) of every ReGLA layer on ``inputs``.

    ``inputs`` is what the layers see: the model is run with forward hooks on each
    ``ReGLAAttention``. Returns ``{layer name: {"hist", "edges", "frac_above_0.99", "frac_below_0.01"}}``.
    """
    seen: dict[str, torch.Tensor] = {}
    hooks = []
    for name, mod in model.named_modules():
        if isinstance(mod, ReGLAAttention):
            hooks.append(
                mod.register_forward_hook(
                    lambda m, args, out, name=name: seen.__setitem__(
                        name, m.log_gates(args[0])[0].exp()
                    )
                )
            )
    try:
        model(inputs) if not isinstance(inputs, dict) else model(**inputs)
    finally:
        for h in hooks:
            h.remove()
    out = {}
    for name, f in seen.items():
        hist = torch.histc(f.float(), bins=bins, min=0.0, max=1.0)
        out[name] = {
            "hist": (hist / hist.sum()).tolist(),
            "edges": torch.linspace(0, 1, bins + 1).tolist(),
            "frac_above_0.99": float((f > 0.99).float().mean()),
            "frac_below_0.01": float((f < 0.01).float().mean()),
        }
    return out


def lm_config_from_options(
    layers: int,
    hidden: int,
    heads: int,
    gate: str,
    feature_map: str,
    hybrid: str,
    chunk_size: int,
    vocab: int,
) -> LMConfig:
    """The CLI's LM options as an ``LMConfig`` (validated)."""
    att = ReGLAConfig(
        hidden_size=hidden,
        num_heads=heads,
        gate=gate,
        feature_map=feature_map,
        chunk_size=chunk_size,
    )
    return LMConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        layer_types=hybrid,
        attention=att,
    )


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True)
