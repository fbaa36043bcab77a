"""The ``posgen`` command: one model trained with ``papershelf.train.fit`` (checkpoints, resume)."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from papershelf.errors import UserError
from papershelf.io import atomic_write_json

from resonance_rope.experiment import (
    evaluate_with_switch,
    next_token_loss,
    one_cycle,
    posgen_ropes,
)
from resonance_rope.model import DecoderConfig, PosGenDecoder
from resonance_rope.posgen import PosGenConfig, make_posgen, posgen_labels


def build_model(
    task: PosGenConfig, rope: str, yarn_schedule: str, yarn_preset: str, paper_model: bool
):
    """(model, model_cfg): the decoder with its train-time and (maybe) eval-time RoPE."""
    model_cfg = (
        DecoderConfig.paper(task.vocab_size)
        if paper_model
        else DecoderConfig(vocab_size=task.vocab_size)
    )
    model_cfg.max_positions = task.test_len + 1
    train_rope, eval_rope = posgen_ropes(
        model_cfg.head_dim,
        task,
        resonance=rope.startswith("resonance"),
        yarn_schedule=yarn_schedule,
        yarn_preset=yarn_preset,
        with_yarn=rope.endswith("yarn"),
    )
    return PosGenDecoder(model_cfg, train_rope, eval_rope), model_cfg


def run_posgen_command(
    task: PosGenConfig,
    rope: str,
    out: Path,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    yarn_schedule: str,
    yarn_preset: str,
    paper_model: bool,
    device: str,
) -> dict:
    """Train, evaluate (own RoPE and, for yarn types, the eval-time YaRN), plot, save."""
    from papershelf.checkpoint import save_weights
    from papershelf.seeding import seed_everything
    from papershelf.train import TrainConfig, fit

    if epochs < 1 or batch_size < 1:
        raise UserError(f"epochs/batch_size: must be >= 1, got {epochs}/{batch_size}")
    seed_everything(seed)
    data = make_posgen(task)
    model, model_cfg = build_model(task, rope, yarn_schedule, yarn_preset, paper_model)
    model.to(device)
    train = data["train"]
    labels = posgen_labels(train, task)
    dataset = list(zip(train, labels, strict=True))
    steps = epochs * max(1, train.shape[0] // batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    schedule = one_cycle(steps, 0.1)

    def set_lr(step: int) -> None:
        for group in optimizer.param_groups:
            group["lr"] = lr * schedule(step)

    def loss_fn(m, batch):
        x, y = batch
        return next_token_loss(m(x), y)

    out = Path(out)
    config = TrainConfig(
        max_steps=steps,
        lr=lr,
        batch_size=batch_size,
        weight_decay=1e-2,
        seed=seed,
        out_dir=out / "checkpoints",
        checkpoint_every=max(1, steps // 4),
        progress=True,
    )
    state = fit(model, dataset, loss_fn, config, optimizer=optimizer, on_step_start=set_lr)
    metrics, switched = evaluate_with_switch(model, data["test"], task)
    results = {model.rotary.cfg.type_name: metrics}
    if switched is not None:
        results[model.eval_rotary.cfg.type_name + " (eval switch)"] = switched
    summary = {
        "task": task.to_dict(),
        "rope": rope,
        "yarn_schedule": yarn_schedule,
        "yarn_preset": yarn_preset,
        "model": model_cfg.to_dict(),
        "epochs": epochs,
        "steps": steps,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "final_loss": state.losses[-1] if state.losses else math.nan,
        "results": {
            k: {kk: vv for kk, vv in v.items() if kk != "acc_by_position"}
            for k, v in results.items()
        },
    }
    atomic_write_json(out / "metrics.json", summary)
    atomic_write_json(
        out / "per_position.json", {k: v["acc_by_position"] for k, v in results.items()}
    )
    save_weights(
        out,
        model.state_dict(),
        {
            "task": task.to_dict(),
            "model": model_cfg.to_dict(),
            "rope": rope,
            "yarn_schedule": yarn_schedule,
            "yarn_preset": yarn_preset,
        },
    )
    _plot(results, task, out / "per_position.png")
    summary["results"] = results
    return summary


def _plot(results: dict, task: PosGenConfig, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from papershelf.io import atomic_write

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, m in results.items():
        ax.plot(
            [math.nan if v is None else 100 * v for v in m["acc_by_position"]], label=name, lw=1
        )
    ax.axvline(task.train_len + 1, color="grey", ls="--", lw=1)
    ax.set_xlabel(f"position (train length {task.train_len} + [EOS])")
    ax.set_ylabel("accuracy %")
    ax.set_title(f"PosGen {task.rule}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)


__all__ = ["build_model", "run_posgen_command"]
