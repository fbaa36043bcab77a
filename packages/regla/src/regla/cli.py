"""``regla``: train a tiny ReGLA LM, linearise a Hugging Face decoder, generate, reproduce, bench.

Thin: parse, build configs, call ``regla.workflow`` (imported inside the commands, so
``--help`` never imports torch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import make_app, run_app
from papershelf.errors import UserError

from regla.config import FEATURE_MAPS, GATES, TASKS

app = make_app(
    "regla",
    help="ReGLA: gated linear attention with a safe-exp feature map, per-head normalisation and a "
    "refining gate; recurrent, parallel and chunkwise forms; Hugging Face linearisation.",
)


def _ints(text: str, field: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UserError(f"{field}: must be comma-separated integers, got {text!r}") from None


@app.command("train")
def train_cmd(
    out: Annotated[
        Path, typer.Option(help="Folder for model.safetensors, its config and metrics.json.")
    ],
    task: Annotated[
        str, typer.Option(help=f"Task: {', '.join(TASKS)} (text needs --data).")
    ] = "mqar",
    data: Annotated[str | None, typer.Option(help="Local text file for --task text.")] = None,
    layers: Annotated[int, typer.Option(help="Number of layers.")] = 2,
    hidden: Annotated[int, typer.Option(help="Model width.")] = 64,
    heads: Annotated[int, typer.Option(help="Attention heads (must divide --hidden).")] = 2,
    gate: Annotated[str, typer.Option(help=f"Gate: {', '.join(GATES)}.")] = "refine",
    feature_map: Annotated[
        str, typer.Option(help=f"Feature map: {', '.join(FEATURE_MAPS)}.")
    ] = "safe_exp",
    hybrid: Annotated[
        str, typer.Option(help="Layer layout: all, alternate (softmax at even indices).")
    ] = "all",
    chunk_size: Annotated[int, typer.Option(help="Chunk size of the chunkwise form (>= 1).")] = 64,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 300,
    batch_size: int = 32,
    seq_len: int = 128,
    lr: float = 3e-3,
    seed: int = 0,
) -> None:
    """Train a tiny ReGLA LM on MQAR-lite, a 1-pair recall task (decay) or a local text file."""
    from regla.config import TrainJobConfig
    from regla.workflow import dump, lm_config_from_options, train_lm

    vocab = 256 if task == "text" else 64
    lm = lm_config_from_options(layers, hidden, heads, gate, feature_map, hybrid, chunk_size, vocab)
    job = TrainJobConfig(
        task=task,
        data=data,
        lm=lm,
        steps=steps,
        batch_size=batch_size,
        seq_len=seq_len,
        lr=lr,
        seed=seed,
    )
    metrics = train_lm(job, out)
    metrics.pop("model")
    print(dump(metrics))


@app.command("generate")
def generate_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A folder written by `regla train`.")],
    prompt_ids: Annotated[str, typer.Option(help="Comma-separated token ids, e.g. 1,2,3.")] = "1",
    max_new: Annotated[int, typer.Option(help="Tokens to generate.")] = 16,
) -> None:
    """Greedy decoding with recurrent states (ReGLA layers) and KV caches (softmax layers)."""
    from regla.workflow import generate_from_run

    print(
        ",".join(
            str(t) for t in generate_from_run(run_dir, _ints(prompt_ids, "prompt-ids"), max_new)
        )
    )


@app.command("linearize")
def linearize_cmd(
    model_dir: Annotated[
        str | None,
        typer.Argument(help="Local Hugging Face model folder (Llama, Mistral, Qwen2, Qwen3)."),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Folder for the linearised weights and configs.")
    ] = Path("runs/linearized"),
    layers: Annotated[str, typer.Option(help="all, alternate or comma-separated indices.")] = "all",
    gate: Annotated[str, typer.Option(help=f"Gate: {', '.join(GATES)}.")] = "refine",
    feature_map: Annotated[
        str, typer.Option(help=f"Feature map: {', '.join(FEATURE_MAPS)}.")
    ] = "safe_exp",
    chunk_size: Annotated[int, typer.Option(help="Chunk size (>= 1).")] = 64,
    steps: Annotated[
        int, typer.Option(help="Fine-tuning steps on MQAR-lite after replacement (0: none).")
    ] = 0,
    tiny: Annotated[
        bool, typer.Option("--tiny", help="Use a tiny random Llama instead of MODEL_DIR.")
    ] = False,
    seed: int = 0,
) -> None:
    """Replace softmax attention with ReGLA layers initialised from q/k/v/o, optionally fine-tune, save."""
    from regla.config import ReGLAConfig
    from regla.workflow import dump, linearize_model

    which = layers if layers in ("all", "alternate") else _ints(layers, "layers")
    cfg = ReGLAConfig(gate=gate, feature_map=feature_map, chunk_size=chunk_size)
    metrics = linearize_model(model_dir, out, which, cfg, steps=steps, seed=seed, tiny=tiny)
    metrics.pop("model")
    print(dump(metrics))


def main() -> None:
    run_app(app)
