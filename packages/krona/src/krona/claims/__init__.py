"""The experiments behind ``krona.paper.PAPER``'s claims (one module per claim)."""

from __future__ import annotations

__all__ = ["set_threads"]


def set_threads() -> int:
    """Use ``KRONA_NUM_THREADS`` torch threads (default 1: on a shared 2-core machine one
    thread per process is several times faster than two). Ratios are unaffected."""
    from papershelf.threads import set_torch_threads

    return set_torch_threads(1, env="KRONA_NUM_THREADS")
