"""PosGen (Resonance RoPE sec. 5, App. C.1): synthetic next-token tasks of constant difficulty.

Tokens are 0 .. m-1 and [EOS] = m. A sequence starts with [EOS] and j + k seed tokens; every
later token is h(...) = (sum of j + k earlier tokens) mod m, chosen by the rule:

- ``recursive``:      x_l = h(x_{l-j-k}, ..., x_{l-1})
- ``cot``:            x_l = h(x_0, ..., x_{j-1}, x_{l-k}, ..., x_{l-1})
- ``semi_recursive``: x_l = h(x_p, ..., x_{p+j-1}, x_{l-k}, ..., x_{l-1}), p = floor((l - j - k) / 2)

(indices l over the tokens after [EOS]). Train sequences have ``train_len`` tokens, val/test
``test_len``; the first j + k + 1 positions (EOS and seeds) are never predicted.
"""

from __future__ import annotations

import itertools

import torch

from resonance_rope.config import IGNORE_INDEX, RULES, SPLITS, PosGenConfig

__all__ = [
    "IGNORE_INDEX",
    "RULES",
    "SPLITS",
    "PosGenConfig",
    "generate",
    "make_posgen",
    "posgen_labels",
    "posgen_metrics",
]


def generate(seeds: torch.Tensor, length: int, cfg: PosGenConfig) -> torch.Tensor:
    """Continue seed tuples by the rule: (N, j+k) -> (N, length) int64 tokens (no [EOS])."""
    j, k, m = cfg.far, cfg.near, cfg.modulus
    x = torch.zeros(seeds.shape[0], length, dtype=torch.int64)
    x[:, : j + k] = seeds
    for pos in range(j + k, length):
        if cfg.rule == "recursive":
            far = x[:, pos - j - k : pos - k]
        elif cfg.rule == "cot":
            far = x[:, :j]
        else:
            p = (pos - (j + k)) // 2
            far = x[:, p : p + j]
        x[:, pos] = (far.sum(1) + x[:, pos - k : pos].sum(1)) % m
    return x


def _disjoint_seeds(cfg: PosGenConfig, n: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(cfg.seed)
    space = cfg.modulus**cfg.n_seed
    if space <= max(1_000_000, 4 * n):
        codes = torch.randperm(space, generator=gen)[:n]
    else:  # sparse draw: rejection of repeats keeps the first occurrence of each code
        seen: dict[int, None] = {}
        while len(seen) < n:
            for c in torch.randint(0, space, (2 * n,), generator=gen).tolist():
                seen.setdefault(c, None)
        codes = torch.tensor(list(seen)[:n], dtype=torch.int64)
    digits = [(codes // cfg.modulus**i) % cfg.modulus for i in range(cfg.n_seed)]
    return torch.stack(digits[::-1], dim=1)


def _official_seeds(cfg: PosGenConfig, n: int) -> torch.Tensor:
    combos = itertools.cycle(itertools.combinations(range(cfg.modulus), cfg.n_seed))
    return torch.tensor(list(itertools.islice(combos, n)), dtype=torch.int64).reshape(n, cfg.n_seed)


def make_posgen(cfg: PosGenConfig) -> dict[str, torch.Tensor]:
    """{"train": (n_train, train_len + 1), "val"/"test": (n, test_len + 1)} int64, [EOS] first."""
    if cfg.split == "disjoint":
        seeds = _disjoint_seeds(cfg, cfg.n_train + cfg.n_val + cfg.n_test)
        parts = seeds.split([cfg.n_train, cfg.n_val, cfg.n_test])
    else:
        train = _official_seeds(cfg, cfg.n_train)
        evals = _official_seeds(cfg, cfg.n_val + cfg.n_test)
        parts = (train, evals[: cfg.n_val], evals[cfg.n_val :])
    out = {}
    for name, seeds, length in zip(
        ("train", "val", "test"), parts, (cfg.train_len, cfg.test_len, cfg.test_len), strict=True
    ):
        body = generate(seeds, length, cfg)
        out[name] = torch.cat(
            [torch.full((body.shape[0], 1), cfg.eos, dtype=torch.int64), body], dim=1
        )
    return out


def posgen_labels(tokens: torch.Tensor, cfg: PosGenConfig) -> torch.Tensor:
    """Labels (N, T): the tokens, with [EOS] and the j + k seeds masked by -100."""
    labels = tokens.clone()
    labels[:, : cfg.n_seed + 1] = IGNORE_INDEX
    return labels


def posgen_metrics(
    logits: torch.Tensor, tokens: torch.Tensor, cfg: PosGenConfig, bucket: int = 32
) -> dict:
    """Teacher-forced argmax accuracy.

    Args:
        logits: (N, T, V), logits[:, p] predicts tokens[:, p + 1].
        tokens: (N, T) with [EOS] at position 0.

    Returns:
        ``id_acc`` over the first train_len - (j + k) predicted tokens, ``ood_acc`` over
        positions >= train_len + 1 (0-based, [EOS] included), ``acc_by_position`` (T,) list with
        ``None`` for unpredicted positions, and ``acc_by_bucket`` [(start, acc)] every ``bucket``.
    """
    correct = (logits[:, :-1].argmax(-1) == tokens[:, 1:]).float()  # position p + 1
    per_pos = torch.full((tokens.shape[1],), float("nan"))
    per_pos[1:] = correct.mean(0)
    first, boundary = cfg.n_seed + 1, cfg.train_len + 1
    per_pos[:first] = float("nan")
    id_acc = float(per_pos[first:boundary].mean())
    ood = per_pos[boundary:]
    buckets = []
    for start in range(first, tokens.shape[1], bucket):
        stop = min(start + bucket, tokens.shape[1])
        buckets.append((start, float(per_pos[start:stop].mean())))
    return {
        "id_acc": id_acc,
        "ood_acc": float(ood.mean()) if ood.numel() else float("nan"),
        "acc_by_position": [None if v != v else float(v) for v in per_pos.tolist()],
        "acc_by_bucket": buckets,
    }
