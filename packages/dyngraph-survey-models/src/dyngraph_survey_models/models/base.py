"""The interface every continuous-time model follows.

A model scores candidate links from its *state* (memory, neighbour lists, seen edges), which
only :meth:`ContinuousTimeModel.observe` changes; the evaluation protocol scores a batch first
and observes it afterwards, and calls :meth:`reset_state` before every independent run.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ContinuousTimeModel"]


class ContinuousTimeModel(nn.Module):
    """Base class. Subclasses implement :meth:`score` and, if stateful, :meth:`observe`.

    ``time_scale`` (a buffer, saved in checkpoints) divides every time difference; it is
    fitted on the training events only (:meth:`fit_time_scale`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("time_scale", torch.ones((), dtype=torch.float64))

    def fit_time_scale(self, src: torch.Tensor, dst: torch.Tensor, t: torch.Tensor) -> float:
        """Set ``time_scale`` to the mean gap between consecutive events of a node (train only)."""
        nodes = torch.cat([src, dst])
        times = torch.cat([t, t]).to(torch.float64)
        order = torch.argsort(times, stable=True)
        nodes, times = nodes[order], times[order]
        order = torch.argsort(nodes, stable=True)
        nodes, times = nodes[order], times[order]
        same = nodes[1:] == nodes[:-1]
        gaps = (times[1:] - times[:-1])[same]
        scale = float(gaps.mean()) if gaps.numel() and float(gaps.mean()) > 0 else 1.0
        self.time_scale.fill_(scale)
        return scale

    def reset_state(self) -> None:
        """Forget every observed event (parameters are kept)."""

    def detach_state(self) -> None:
        """Cut the autograd graph through the state (called after each training step)."""

    def score(
        self, src: torch.Tensor, dst: torch.Tensor, t: torch.Tensor, msg: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits ``(B,)`` for candidate links ``src (B,) -> dst (B,)`` queried at ``t (B,)``,
        from the state only (events observed so far)."""
        raise NotImplementedError

    def observe(
        self, src: torch.Tensor, dst: torch.Tensor, t: torch.Tensor, msg: torch.Tensor
    ) -> None:
        """Update the state with a batch of events (after they were scored)."""
