"""The claims' shared model zoo: small LMs trained once per process on the noisy-recall task.

Every model of one seed sees the same training batches and starts from the same seed, so
comparisons are paired. Training is ``papershelf.train.train`` (the house loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from integral_transformer.config import ZOO_MODELS, LMConfig, NoisyRecallConfig, ZooConfig
from integral_transformer.model import IntegralLM
from integral_transformer.tasks import make_noisy_recall, recall_loss, recall_metrics

__all__ = ["LEARNED_ACCURACY", "TrainedModel", "get_zoo", "lm_config", "task_config", "train_lm"]

#: Precondition of every zoo comparison, fixed before any run: the vanilla model must recall
#: at least half of the values (chance is 1/num_values, about 3 %).
LEARNED_ACCURACY = 0.5

_CACHE: dict[tuple, dict[str, list[TrainedModel]]] = {}


@dataclass
class TrainedModel:
    name: str
    seed: int
    model: IntegralLM
    metrics: dict[str, float]
    losses: list[float]
    wall_seconds: float
    cpu_seconds: float = 0.0


def task_config(zoo: ZooConfig) -> NoisyRecallConfig:
    return NoisyRecallConfig(num_pairs=zoo.num_pairs, seq_len=zoo.seq_len)


def lm_config(zoo: ZooConfig, name: str) -> LMConfig:
    return LMConfig(
        vocab_size=task_config(zoo).vocab_size,
        hidden_size=zoo.hidden_size,
        num_layers=zoo.num_layers,
        num_heads=zoo.num_heads,
        intermediate_size=zoo.intermediate_size,
        num_signals=zoo.num_signals,
        max_positions=zoo.seq_len,
        **ZOO_MODELS[name],
    )


def train_lm(
    lm: LMConfig,
    task: NoisyRecallConfig,
    zoo: ZooConfig,
    seed: int,
    device: str = "cpu",
    name: str = "",
) -> TrainedModel:
    """Train one ``IntegralLM`` on fresh noisy-recall data (data seed ``seed``, init seed ``seed``)."""
    from papershelf.train import TrainConfig, train

    data = make_noisy_recall(task, zoo.steps * zoo.batch_size, seed)
    train_data = {k: data[k].to(device) for k in ("input_ids", "target_mask")}
    evaluation = make_noisy_recall(task, zoo.n_eval, seed + 1_000_003)
    evaluation = {k: v.to(device) for k, v in evaluation.items()}
    torch.manual_seed(seed)
    model = IntegralLM(lm).to(device)
    cfg = TrainConfig(
        max_steps=zoo.steps,
        lr=zoo.lr,
        batch_size=zoo.batch_size,
        warmup_steps=min(zoo.warmup_steps, zoo.steps),
        schedule="cosine",
        max_grad_norm=1.0,
        shuffle=False,
        seed=seed,
        progress=True,
    )
    state = train(model, train_data, recall_loss, cfg)
    model.eval()
    metrics = recall_metrics(model, evaluation)
    return TrainedModel(
        name, seed, model, metrics, state.losses, state.wall_seconds, state.cpu_seconds
    )


def get_zoo(
    zoo: ZooConfig, seed: int, device: str = "cpu", names: tuple[str, ...] | None = None
) -> dict[str, list[TrainedModel]]:
    """The zoo's models (one per seed ``seed, seed+1, ...``), trained once per process."""
    names = names or zoo.models
    key = (tuple(sorted(zoo.to_dict().items(), key=str)).__repr__(), seed, device)
    cache = _CACHE.setdefault(key, {})
    task = task_config(zoo)
    for name in names:
        if name not in cache:
            cache[name] = [
                train_lm(lm_config(zoo, name), task, zoo, seed + i, device, name)
                for i in range(zoo.num_seeds)
            ]
    return {n: cache[n] for n in names}


def eval_batch(zoo: ZooConfig, seed: int, n: int = 64) -> dict[str, torch.Tensor]:
    """Held-out sequences for the attention and rank diagnostics."""
    return make_noisy_recall(task_config(zoo), n, seed + 2_000_003)
