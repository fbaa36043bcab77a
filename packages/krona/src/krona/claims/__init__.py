"""The experiments behind ``krona.paper.PAPER``'s claims (one module per claim)."""

from __future__ import annotations

import os

__all__ = ["set_threads"]


def set_threads() -> int:
    """Use ``KRONA_NUM_THREADS`` torch threads (default 1: on a shared 2-core machine one
    thread per process is several times faster than two). Ratios are unaffected."""
    import torch

    n = int(os.environ.get("KRONA_NUM_THREADS", "1"))
    torch.set_num_threads(max(1, n))
    return torch.get_num_threads()
