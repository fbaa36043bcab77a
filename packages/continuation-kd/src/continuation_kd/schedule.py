"""The Continuation-KD schedule as a pure function of the 1-based epoch (Algorithm 1).

``ContinuationSchedule(cfg).at(i)`` gives ``ScheduleState(T, phi, psi, margin_factor)``:

- T from Algorithm 1 with ``k = ⌊anneal_epochs / T_max⌋``, clamped to T ≥ 1:
  ``"even"``: ``T_i = max(1, T_max − ⌊(i − 1)/k⌋)``; ``"paper"``: ``max(1, T_max − ⌊i/k⌋)``;
  T = 1 after ``anneal_epochs``.
- φ(T) = 1 − (T − 1)/T_max (Eq. 5), the teacher scale (1/T_max → 1).
- ψ(i), the CE weight (Eq. 7/8 or any callable), increasing to 1.
- the margin factor, φ (the margin m·φ anneals with the teacher).

Ablations (Table 7): ``anneal_teacher=False`` → φ = 1; ``anneal_psi=False`` → ψ = 0.5;
``anneal_margin=False`` → margin factor 1. No torch import: resuming a run recomputes the
same state from the epoch alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from papershelf.errors import UserError

from continuation_kd.config import ContinuationKDConfig, psi_function

__all__ = ["ContinuationSchedule", "ScheduleState", "phi_of"]


def phi_of(T: int, t_max: int) -> float:
    """φ(T) = 1 − (T − 1)/T_max (Eq. 5): 1 at T = 1, 1/T_max at T = T_max."""
    return 1.0 - (T - 1) / t_max


@dataclass(frozen=True)
class ScheduleState:
    """The schedule at one epoch: ``T`` (1..T_max), ``phi`` (teacher scale), ``psi`` (CE
    weight) and ``margin_factor`` (the hinge threshold is ``margin · margin_factor``)."""

    epoch: int
    T: int
    phi: float
    psi: float
    margin_factor: float


class ContinuationSchedule:
    """φ, ψ and the margin factor at each 1-based epoch of a :class:`ContinuationKDConfig`."""

    def __init__(self, config: ContinuationKDConfig) -> None:
        self.config = config
        self.span = config.n_epochs if config.anneal_epochs is None else config.anneal_epochs
        self.k = self.span // config.t_max
        self._psi = psi_function(config.psi)

    def temperature(self, epoch: int) -> int:
        """T_i of Algorithm 1 (clamped to ≥ 1; 1 after ``anneal_epochs``)."""
        self._check(epoch)
        if epoch > self.span:
            return 1
        offset = epoch - 1 if self.config.schedule == "even" else epoch
        return max(1, self.config.t_max - offset // self.k)

    def at(self, epoch: int) -> ScheduleState:
        """The state at 1-based ``epoch`` in ``1..n_epochs``."""
        cfg = self.config
        T = self.temperature(epoch)
        phi = phi_of(T, cfg.t_max)
        return ScheduleState(
            epoch=epoch,
            T=T,
            phi=phi if cfg.anneal_teacher else 1.0,
            psi=float(self._psi(epoch)) if cfg.anneal_psi else 0.5,
            margin_factor=phi if cfg.anneal_margin else 1.0,
        )

    def table(self) -> list[ScheduleState]:
        """Every epoch's state, 1..n."""
        return [self.at(i) for i in range(1, self.config.n_epochs + 1)]

    def _check(self, epoch: int) -> None:
        if (
            isinstance(epoch, bool)
            or not isinstance(epoch, int)
            or not 1 <= epoch <= self.config.n_epochs
        ):
            raise UserError(
                f"epoch: must be an integer in 1..{self.config.n_epochs} (epochs are 1-based), "
                f"got {epoch!r}"
            )
