"""The spec's synthetic noisy-recall task (generated in code, seeded).

Vocabulary (``NoisyRecallConfig`` defaults, 64 tokens): [BOS] = 0, punctuation 1..6, keys
7..34, values 35..63. A sequence (length 64): [BOS], 8 key-value pairs each followed by 1-2
random punctuation tokens, then the 8 keys in random order, each followed by its value;
punctuation pads to the end. Only the values after queried keys are predictable: they are
the recall targets (``target_mask``).
"""

from __future__ import annotations

import torch

from integral_transformer.config import NoisyRecallConfig

__all__ = ["make_noisy_recall", "recall_loss", "recall_metrics"]


def make_noisy_recall(config: NoisyRecallConfig, n: int, seed: int) -> dict[str, torch.Tensor]:
    """``n`` sequences: ``input_ids (n, T)`` long, ``target_mask (n, T)`` bool (True where the
    token is a recalled value, i.e. predictable from the previous token's key), and
    ``is_punct (n, T)`` / ``is_special (n, T)`` bool. Deterministic given ``seed``."""
    g = torch.Generator().manual_seed(seed)
    c = config
    key0, val0 = 1 + c.num_punct, 1 + c.num_punct + c.num_keys
    ids = torch.empty(n, c.seq_len, dtype=torch.long)
    target = torch.zeros(n, c.seq_len, dtype=torch.bool)
    for row in range(n):
        keys = torch.randperm(c.num_keys, generator=g)[: c.num_pairs] + key0
        vals = torch.randint(0, c.num_values, (c.num_pairs,), generator=g) + val0
        noise = torch.randint(c.min_noise, c.max_noise + 1, (c.num_pairs,), generator=g)
        seq = [0]
        for key, val, m in zip(keys.tolist(), vals.tolist(), noise.tolist(), strict=True):
            seq += [key, val, *torch.randint(1, 1 + c.num_punct, (m,), generator=g).tolist()]
        order = torch.randperm(c.num_pairs, generator=g).tolist()
        for i in order:
            seq += [int(keys[i]), int(vals[i])]
            target[row, len(seq) - 1] = True
        pad = c.seq_len - len(seq)
        seq += torch.randint(1, 1 + c.num_punct, (pad,), generator=g).tolist()
        ids[row] = torch.tensor(seq)
    is_punct = (ids >= 1) & (ids <= c.num_punct)
    is_special = torch.zeros_like(target)
    for s in c.special_ids:
        is_special |= ids == s
    return {"input_ids": ids, "target_mask": target, "is_punct": is_punct, "is_special": is_special}


def recall_loss(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy (nats) of the recall targets given the previous tokens."""
    logits = model(batch["input_ids"][:, :-1])["logits"]
    mask = batch["target_mask"][:, 1:]
    return torch.nn.functional.cross_entropy(logits[mask], batch["input_ids"][:, 1:][mask])


@torch.no_grad()
def recall_metrics(model, data: dict[str, torch.Tensor], batch_size: int = 128) -> dict[str, float]:
    """``{"loss": nats, "accuracy": fraction of recall targets predicted by argmax}``."""
    was = model.training
    model.eval()
    total, correct, nll = 0, 0, 0.0
    for i in range(0, len(data["input_ids"]), batch_size):
        ids = data["input_ids"][i : i + batch_size]
        mask = data["target_mask"][i : i + batch_size, 1:]
        logits = model(ids[:, :-1])["logits"][mask]
        gold = ids[:, 1:][mask]
        nll += torch.nn.functional.cross_entropy(logits, gold, reduction="sum").item()
        correct += (logits.argmax(-1) == gold).sum().item()
        total += gold.numel()
    model.train(was)
    return {"loss": nll / total, "accuracy": correct / total}
