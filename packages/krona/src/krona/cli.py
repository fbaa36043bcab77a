"""``krona``: train, evaluate, merge and inspect KronA adapters; reproduce the paper's claims."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import make_app, run_app

app = make_app(
    "krona",
    help="KronA: Kronecker adapters (KronA, KronA^B, KronA^B_res) for parameter-efficient tuning.",
)

TRAIN_META = "krona_train.json"
ModelOpt = Annotated[
    str,
    typer.Option(
        "--model", help="Hub name, local folder, 'offline' (bundled MiniLM) or 'tiny-encoder'."
    ),
]


def _threads() -> None:
    from krona.claims import set_threads

    set_threads()


def _synthetic(tok, num_classes: int, seed: int):
    """The synthetic topic task; ``krona eval`` rebuilds ``krona train``'s test split from it."""
    from papershelf.data import synthetic_text_classification

    return synthetic_text_classification(
        tok, num_classes=num_classes, n_train=512, n_test=400, seed=seed
    )


def _load_data(train: Path | None, eval_: Path | None, tok, seed: int):
    from papershelf.data import read_text_classification

    if (train is None) != (eval_ is None):
        raise typer.BadParameter("give both --train and --eval, or neither (synthetic task)")
    if train is None:
        task = _synthetic(tok, 4, seed)
        return task.train, task.test
    tr = read_text_classification(train)
    return tr, read_text_classification(eval_, label_names=tr.label_names)


@app.command()
def train(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the adapter, its config and checkpoints.")
    ],
    model: ModelOpt = "offline",
    train_file: Annotated[
        Path | None, typer.Option("--train", help="JSONL/CSV with text,label (default: synthetic).")
    ] = None,
    eval_file: Annotated[
        Path | None, typer.Option("--eval", help="JSONL/CSV for evaluation.")
    ] = None,
    variant: Annotated[str, typer.Option(help="linear | block | block_res")] = "linear",
    scale: Annotated[float, typer.Option(help="The scale s of s·(A⊗B).")] = 1.0,
    shapes: Annotated[str, typer.Option(help="'auto' or 'A=16x16,B=24x24'.")] = "auto",
    target_modules: Annotated[
        str | None, typer.Option(help="Comma-separated module names (default query,value).")
    ] = None,
    steps: int = 150,
    lr: float = 2e-3,
    batch_size: int = 32,
    seed: int = 0,
) -> None:
    """Fine-tune KronA adapters (and a mean-pooled classifier head) on a text-classification task."""
    import torch
    from papershelf.io import atomic_write_json
    from papershelf.models import load_model
    from papershelf.text_classification import classification_loss, encode, evaluate
    from papershelf.train import TrainConfig, fit

    from krona.config import KronAConfig
    from krona.experiment import MeanPoolClassifier
    from krona.model import get_krona_model

    _threads()
    cfg = KronAConfig(
        variant=variant,
        scale=scale,
        shapes=shapes,
        modules_to_save=["classifier"],
        target_modules=target_modules.split(",") if target_modules else None,
    )
    # built (and so validated) before anything is loaded
    train_cfg = TrainConfig(
        max_steps=steps, lr=lr, batch_size=batch_size, seed=seed, out_dir=out / "checkpoints"
    )
    # random-weight models (tiny-encoder) are rebuilt identically by eval/merge
    torch.manual_seed(seed)
    encoder, tok = load_model(model)
    tr, ev = _load_data(train_file, eval_file, tok, seed)
    torch.manual_seed(seed)
    net = MeanPoolClassifier(encoder, len(tr.label_names))
    km = get_krona_model(net, cfg)
    km.print_trainable_parameters()
    data = encode(tok, tr.texts, tr.labels, max_length=64)
    state = fit(km, data, classification_loss, train_cfg)
    km.save_pretrained(out)
    metrics = evaluate(km, encode(tok, ev.texts, ev.labels, max_length=64))
    atomic_write_json(
        out / TRAIN_META,
        {
            "model": model,
            "label_names": tr.label_names,
            "steps": state.step,
            "lr": lr,
            "batch_size": batch_size,
            "seed": seed,
            "final_loss": state.losses[-1] if state.losses else None,
            "eval": metrics,
        },
    )
    print(
        f"eval accuracy {metrics['accuracy']:.4f}  nll {metrics['nll']:.4f}; adapter saved to {out}"
    )


def _load_trained(folder: Path):
    import json

    from papershelf.models import load_model

    from krona.experiment import MeanPoolClassifier
    from krona.model import KronAModel

    meta_path = folder / TRAIN_META
    if not meta_path.is_file():
        raise typer.BadParameter(
            f"{folder} has no {TRAIN_META}; it was not written by `krona train`"
        )
    import torch

    meta = json.loads(meta_path.read_text())
    torch.manual_seed(meta["seed"])
    encoder, tok = load_model(meta["model"])
    net = MeanPoolClassifier(encoder, len(meta["label_names"]))
    return KronAModel.from_pretrained(net, folder), tok, meta


@app.command("eval")
def eval_cmd(
    folder: Annotated[Path, typer.Argument(help="An output folder of `krona train`.")],
    eval_file: Annotated[
        Path | None,
        typer.Option("--eval", help="JSONL/CSV with text,label (default: synthetic test split)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the synthetic task (default: the training seed).")
    ] = None,
) -> None:
    """Evaluate a trained adapter: accuracy and NLL."""
    from papershelf.data import read_text_classification
    from papershelf.text_classification import encode, evaluate

    _threads()
    km, tok, meta = _load_trained(folder)
    if eval_file is None:
        seed = meta["seed"] if seed is None else seed
        ev = _synthetic(tok, len(meta["label_names"]), seed).test
    else:
        ev = read_text_classification(eval_file, label_names=meta["label_names"])
    m = evaluate(km, encode(tok, ev.texts, ev.labels, max_length=64))
    print(f"accuracy {m['accuracy']:.4f}  nll {m['nll']:.4f}  ({len(ev)} examples)")


@app.command()
def merge(
    folder: Annotated[
        Path, typer.Argument(help="An output folder of `krona train` (variant linear).")
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder for the merged encoder (save_pretrained) and head."),
    ],
) -> None:
    """Merge W <- W0 + s·kron(A, B) and write a plain model (plain KronA only)."""
    from papershelf.checkpoint import save_weights

    km, tok, meta = _load_trained(folder)
    net = km.merge_and_unload()
    net.encoder.save_pretrained(out / "encoder")
    tok.save_pretrained(out / "encoder")
    save_weights(
        out, net.classifier.state_dict(), {"label_names": meta["label_names"]}, name="classifier"
    )
    print(f"merged model written to {out} (encoder/ + classifier.safetensors)")


@app.command()
def export(
    folder: Annotated[
        Path, typer.Argument(help="An output folder of `krona train` (variant linear).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the exported adapter.")],
    format: Annotated[str, typer.Option("--format", help="Only 'peft-lokr'.")] = "peft-lokr",
) -> None:
    """Export to a PEFT LoKr adapter (needs peft: uv sync --group bench-krona)."""
    if format != "peft-lokr":
        raise typer.BadParameter(f"--format: {format!r} is not supported; use 'peft-lokr'")
    km, _, _ = _load_trained(folder)
    km.export_peft(out)
    print(f"PEFT LoKr adapter written to {out}")


@app.command()
def shapes(
    model: ModelOpt = "offline",
    target_modules: Annotated[
        str, typer.Option(help="Comma-separated module names.")
    ] = "query,value",
    factor: int = -1,
) -> None:
    """Print, per target, (d_out, d_in), the chosen A and B, params, equal-budget LoRA rank, cost per order."""
    from papershelf.adapters import resolve_target_modules
    from papershelf.models import load_model

    from krona.config import KronAConfig
    from krona.functional import lora_rank_for_budget, num_params, order_costs

    net, _ = load_model(model)
    cfg = KronAConfig(target_modules=target_modules.split(","), factor=factor)
    for name in resolve_target_modules(net, cfg.target_modules):
        lin = net.get_submodule(name)
        s = cfg.shapes_for(name, lin.out_features, lin.in_features)
        n = num_params(s)
        c = order_costs(s)
        print(
            f"{name}: ({lin.out_features}, {lin.in_features})  A={s[0][0]}x{s[0][1]} B={s[1][0]}x{s[1][1]}  "
            f"params {n}  LoRA r={lora_rank_for_budget(lin.out_features, lin.in_features, n)}  "
            f"MACs/token A_first {c['A_first']} B_first {c['B_first']} dense {lin.out_features * lin.in_features}"
        )


def main() -> None:
    run_app(app)
