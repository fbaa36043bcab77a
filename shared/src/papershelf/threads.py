"""How many torch threads a run uses.

torch's default counts the host's cores, not those the process may run on; in a 2-core
container on a large host that oversubscription made small problems 25x slower.
"""

from __future__ import annotations

import os


def allowed_cores() -> int:
    """The number of CPU cores this process may run on (its affinity mask where known)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def set_torch_threads(limit: int | None = None, env: str | None = None) -> int:
    """Set torch's thread count to the allowed cores, at most ``limit``; return it.

    The environment variable named by ``env`` (e.g. ``"DYLORA_THREADS"``), when set, wins.
    """
    import torch

    n = min(allowed_cores(), limit) if limit else allowed_cores()
    if env and os.environ.get(env):
        n = int(os.environ[env])
    torch.set_num_threads(max(1, n))
    return torch.get_num_threads()
