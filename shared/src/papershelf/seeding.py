"""Seeding every source of randomness a run uses."""

from __future__ import annotations

import random


def seed_everything(seed: int):
    """Seed Python, NumPy and torch (CPU and CUDA); return a seeded ``torch.Generator``."""
    import numpy as np
    import torch

    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
