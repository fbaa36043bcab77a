"""``integral-transformer``: train, analyze, reproduce, bench.

Thin: parse, build configs (validated at once, before torch loads), call
``integral_transformer.workflow``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import make_app, run_app
from papershelf.config import check_choice
from papershelf.errors import UserError

from integral_transformer.config import (
    ATTENTIONS,
    PLACEMENTS,
    LMConfig,
    NoisyRecallConfig,
    ZooConfig,
)

app = make_app(
    "integral-transformer",
    help="Integral Transformer: attention that averages S per-signal logits before one softmax, "
    "with vanilla, Differential and Cog baselines, diagnostics and a Hugging Face attention function.",
)


def _placement(text: str) -> str | tuple[int, ...]:
    if text in PLACEMENTS:
        return text
    try:
        return tuple(int(p) for p in text.split(","))
    except ValueError:
        raise UserError(
            f"placement: must be one of {', '.join(PLACEMENTS)} or comma-separated layer indices, got {text!r}"
        ) from None


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Output folder (weights, configs, metrics).")] = Path(
        "runs/integral"
    ),
    task: Annotated[str, typer.Option(help="Training task: noisy-recall.")] = "noisy-recall",
    attention: Annotated[str, typer.Option(help=f"{', '.join(ATTENTIONS)}.")] = "integral",
    placement: Annotated[
        str, typer.Option(help=f"{', '.join(PLACEMENTS)} or indices like 2,3.")
    ] = "top_half",
    signals: Annotated[int, typer.Option(help="S, signals per head (integral).")] = 4,
    rope_mode: Annotated[str, typer.Option(help="signal or head.")] = "signal",
    signal_space: Annotated[str, typer.Option(help="logit or prob.")] = "logit",
    layers: Annotated[int, typer.Option(help="Decoder layers.")] = 4,
    hidden: Annotated[int, typer.Option(help="Model width d.")] = 64,
    heads: Annotated[int, typer.Option(help="Attention heads.")] = 2,
    ffn: Annotated[int, typer.Option(help="SwiGLU inner width.")] = 256,
    pairs: Annotated[int, typer.Option(help="Key-value pairs per sequence.")] = 4,
    seq_len: Annotated[int, typer.Option(help="Sequence length.")] = 32,
    steps: int = 300,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    device: str = "cpu",
) -> None:
    """Train a small LM on the noisy-recall task (papershelf.train); weights as safetensors."""
    check_choice("task", task, ("noisy-recall",))
    task_cfg = NoisyRecallConfig(num_pairs=pairs, seq_len=seq_len)
    lm = LMConfig(
        vocab_size=task_cfg.vocab_size,
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        intermediate_size=ffn,
        max_positions=seq_len,
        attention=attention,
        placement=_placement(placement),
        num_signals=signals,
        rope_mode=rope_mode,
        signal_space=signal_space,
    )
    run = ZooConfig(steps=steps, batch_size=batch_size, lr=lr, num_pairs=pairs, seq_len=seq_len)
    from integral_transformer.workflow import train_model

    metrics = train_model(lm, task_cfg, run, out, seed=seed, device=device)
    held = metrics["held_out"]
    print(f"held-out recall accuracy {held['accuracy']:.4f}, loss {held['loss']:.4f}")
    print(f"wrote {out / 'model.safetensors'}, {out / 'metrics.json'}")


@app.command()
def analyze(
    model_dir: Annotated[Path, typer.Argument(help="A folder written by `train`.")],
    out: Annotated[Path | None, typer.Option(help="Output folder (default: MODEL_DIR).")] = None,
    n: Annotated[int, typer.Option(help="Held-out sequences to analyse.")] = 64,
    seed: int = 0,
) -> None:
    """Attention maps and noise statistics (mass on [BOS]/punctuation, entropy, negative
    weights, rank per layer) as PNG + JSON."""
    from integral_transformer.workflow import analyze_model

    report = analyze_model(model_dir, out, n=n, seed=seed)
    where = out or model_dir
    for i, kind in enumerate(report["layer_kinds"]):
        mass = [m for m in report["mass_on_noise"][i] if m is not None]
        print(
            f"layer {i} {kind:>8}: noise share {sum(mass) / len(mass):.3f}, rank {report['mean_rank'][i]:.1f}"
        )
    print(
        f"wrote {where / 'analysis.json'}, {where / 'attention_maps.png'}, {where / 'noise_stats.png'}"
    )


def main() -> None:
    run_app(app)


__all__ = ["app", "main"]
