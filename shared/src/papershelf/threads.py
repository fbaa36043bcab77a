"""How many torch threads a run uses.

torch's default counts the host's cores, not those the process may run on; in a 2-core
container on a large host that oversubscription made small problems 25x slower. The policy
is declared where the work is (``Claim(threads=...)``, ``Paper(bench_threads=...)``) and
applied here; the environment variable ``PAPERSHELF_THREADS`` overrides it everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from papershelf.errors import UserError


def allowed_cores() -> int:
    """The number of CPU cores this process may run on (its affinity mask where known)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


THREADS_ENV = "PAPERSHELF_THREADS"


def thread_count(limit: int | None = None) -> int:
    """The allowed cores, at most ``limit``; ``PAPERSHELF_THREADS``, when set, wins."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise UserError(f"{THREADS_ENV}: must be a whole number >= 1, got {value!r}")
        return int(value)
    return max(1, min(allowed_cores(), limit) if limit else allowed_cores())


def set_torch_threads(limit: int | None = None) -> int:
    """Set torch's thread count to ``thread_count(limit)``; return it.

    Packages do not call this: a claim declares ``Claim(..., threads=1)`` and a paper's
    benchmark ``Paper(..., bench_threads=1)``, and papershelf's runner applies it.
    """
    import torch

    torch.set_num_threads(thread_count(limit))
    return torch.get_num_threads()


@contextmanager
def torch_threads(limit: int | None = None) -> Iterator[int]:
    """Run the block on ``thread_count(limit)`` torch threads, then restore the previous count."""
    import torch

    before = torch.get_num_threads()
    try:
        yield set_torch_threads(limit)
    finally:
        torch.set_num_threads(before)
