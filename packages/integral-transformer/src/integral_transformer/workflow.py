"""What the CLI commands do, as plain functions: ``train`` and ``analyze``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from papershelf.errors import UserError

from integral_transformer.config import LMConfig, NoisyRecallConfig, ZooConfig

__all__ = ["analyze_model", "load_lm", "train_model"]


def train_model(
    lm: LMConfig,
    task: NoisyRecallConfig,
    run: ZooConfig,
    out: str | Path,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, Any]:
    """Train an ``IntegralLM`` on the noisy-recall task with ``papershelf.train``; write
    ``model.safetensors``, ``model_config.json`` (the resolved configs) and ``metrics.json``
    (atomically) into ``out``. Returns the metrics."""
    from papershelf.checkpoint import save_weights
    from papershelf.io import atomic_write_json

    from integral_transformer.zoo import train_lm

    if lm.max_positions < task.seq_len:
        raise UserError(
            f"max_positions: must be >= the task's seq_len {task.seq_len}, got {lm.max_positions}"
        )
    if lm.vocab_size < task.vocab_size:
        raise UserError(f"vocab_size: must be >= the task's {task.vocab_size}, got {lm.vocab_size}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    trained = train_lm(lm, task, run, seed, device)
    config = {"lm": lm.to_dict(), "task": task.to_dict(), "train": run.to_dict(), "seed": seed}
    state = {
        k: v
        for k, v in trained.model.state_dict().items()
        if k != "lm_head.weight" or not lm.tie_embeddings
    }
    save_weights(out, state, config)
    metrics = {
        "held_out": trained.metrics,
        "final_train_loss": trained.losses[-1],
        "layer_kinds": list(lm.layer_kinds()),
        "parameters": sum(p.numel() for p in trained.model.parameters()),
    }
    atomic_write_json(out / "metrics.json", metrics)
    return metrics


def _check_dir(model_dir: str | Path) -> Path:
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise UserError(
            f"model_dir: must be a folder written by `integral-transformer train`, got {model_dir}"
        )
    return model_dir


def load_lm(model_dir: str | Path, device: str = "cpu"):
    """``(IntegralLM, task config)`` from a ``train`` output folder."""
    model_dir = _check_dir(model_dir)
    from papershelf.checkpoint import load_config, load_weights

    from integral_transformer.model import IntegralLM

    config = load_config(model_dir)
    if config is None or "lm" not in config:
        raise UserError(f"model_dir: no model_config.json with an 'lm' entry in {model_dir}")
    lm_cfg = LMConfig.from_dict(config["lm"])
    model = IntegralLM(lm_cfg)
    expected = [k for k in model.state_dict() if k != "lm_head.weight" or not lm_cfg.tie_embeddings]
    state, _ = load_weights(model_dir, expected_keys=expected, device=device)
    model.load_state_dict(state, strict=False)
    return model.to(device).eval(), NoisyRecallConfig.from_dict(config["task"])


def analyze_model(
    model_dir: str | Path, out: str | Path | None = None, n: int = 64, seed: int = 0
) -> dict[str, Any]:
    """Attention maps and noise statistics of a trained model: per layer and head the signed
    weight on [BOS], the share of |attention| on [BOS] + punctuation, row entropy, negative
    weights, and each layer's mean representation rank. Writes ``analysis.json``,
    ``attention_maps.png`` and ``noise_stats.png`` into ``out`` (default: ``model_dir``)."""
    if n < 1:
        raise UserError(f"n: must be >= 1, got {n}")
    _check_dir(model_dir)
    import torch
    from papershelf.io import atomic_write_json

    from integral_transformer.analysis import attention_stats, layer_ranks
    from integral_transformer.tasks import make_noisy_recall

    model, task = load_lm(model_dir)
    out = Path(out or model_dir)
    out.mkdir(parents=True, exist_ok=True)
    batch = make_noisy_recall(task, n, seed + 2_000_003)
    stats = attention_stats(model, batch["input_ids"], batch["is_special"], batch["is_punct"])
    ranks = layer_ranks(model, batch["input_ids"]).double().mean(dim=1)
    report = {
        "layer_kinds": list(model.config.layer_kinds()),
        **{k: v.tolist() for k, v in stats.items()},
        "mean_rank": ranks.tolist(),
    }
    report = json.loads(json.dumps(report).replace("NaN", "null"))
    atomic_write_json(out / "analysis.json", report)
    with torch.no_grad():
        maps = model(batch["input_ids"][:1], output_attentions=True)["attentions"]
    _plot_maps(maps, report, out)
    return report


def _plot_maps(maps, report, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from papershelf.io import atomic_write

    layers, heads = len(maps), max(m.shape[1] for m in maps)
    fig, axes = plt.subplots(layers, heads, figsize=(2.2 * heads, 2.2 * layers), squeeze=False)
    for i, w in enumerate(maps):
        for h in range(heads):
            ax = axes[i][h]
            ax.axis("off")
            if h < w.shape[1]:
                ax.imshow(w[0, h].numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
                ax.set_title(f"L{i} {report['layer_kinds'][i]} h{h}", fontsize=7)
    fig.tight_layout()
    save = {"format": "png", "metadata": {"Software": None}}
    atomic_write(out / "attention_maps.png", lambda p: fig.savefig(p, **save))
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4, 3))
    for h in range(heads):
        ax.plot([row[h] for row in report["mass_on_noise"]], "o-", label=f"head {h}")
    ax.set(xlabel="layer", ylabel="|attention| share on [BOS]+punct.")
    ax.legend(fontsize=7)
    fig.tight_layout()
    atomic_write(out / "noise_stats.png", lambda p: fig.savefig(p, **save))
    plt.close(fig)
