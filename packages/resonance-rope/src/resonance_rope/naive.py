"""Slow, obviously-correct references used only as test oracles (Python floats, explicit loops).

Each ``naive_<op>`` takes the same parameters, in order, as the fast ``<op>`` of
``resonance_rope.freqs`` it checks (lists where the fast op takes tensors).
"""

from __future__ import annotations

import math


def naive_resonance_round(
    inv_freq: list[float], max_wavelength: float | None = None
) -> tuple[list[float], list[int]]:
    """Algorithm 1 pair by pair: lambda~ = round(2 pi / theta) (at least 1), theta~ = 2 pi / lambda~.

    Pairs with a wavelength above ``max_wavelength`` keep theta and get integer wavelength 0.
    Returns (theta~ per pair, lambda~ per pair), as ``freqs.resonance_round``.
    """
    new_inv, int_wavelength = [], []
    for theta in inv_freq:
        lam = 2 * math.pi / theta
        if max_wavelength is not None and lam > max_wavelength:
            new_inv.append(theta)
            int_wavelength.append(0)
            continue
        lam_int = max(1, round(lam))
        new_inv.append(2 * math.pi / lam_int)
        int_wavelength.append(lam_int)
    return new_inv, int_wavelength


def naive_rotary_angles(
    positions: list[int], inv_freq: list[float], int_wavelength: list[int]
) -> list[list[float]]:
    """Angles (N, P), position by position, pair by pair: (t mod lambda~) * theta~ for pairs
    with an integer wavelength (the official semantics, integer remainder), t * theta otherwise."""
    rows = []
    for t in positions:
        row = []
        for theta, lam in zip(inv_freq, int_wavelength, strict=True):
            row.append((t % lam) * theta if lam > 0 else t * theta)
        rows.append(row)
    return rows


def naive_feature_gap(
    inv_freq: list[float], train_len: int, test_len: int, int_wavelength: list[int] | None = None
) -> list[float]:
    """Eq. 8 by brute force: max over n in [L, L') of min over m < L of 2 |sin((a_n - a_m) / 2)|.

    a_t = t theta_i, or (t mod lambda~_i) theta~_i for pairs with an integer wavelength.
    """
    gaps = []
    for i, theta in enumerate(inv_freq):
        lam = int_wavelength[i] if int_wavelength else 0

        def angle(t: int, lam: int = lam, theta: float = theta) -> float:
            return (t % lam) * (2 * math.pi / lam) if lam > 0 else t * theta

        worst = 0.0
        for n in range(train_len, test_len):
            best = min(abs(2 * math.sin((angle(n) - angle(m)) / 2)) for m in range(train_len))
            worst = max(worst, best)
        gaps.append(worst)
    return gaps
