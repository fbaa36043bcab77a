"""Slow, obviously-correct references used only as test oracles (Python floats, explicit loops)."""

from __future__ import annotations

import math


def naive_resonance_table(
    head_dim: int, base: float, length: int
) -> tuple[list[list[float]], list[list[float]]]:
    """cos/sin (length, head_dim/2) of Resonance RoPE, pair by pair, position by position.

    The official semantics: lambda~ = round(2 pi / theta), theta~ = 2 pi / lambda~, angle of
    position t = (t mod lambda~) * theta~ (integer remainder).
    """
    cos_rows, sin_rows = [], []
    lams = [round(2 * math.pi / base ** (-2 * j / head_dim)) for j in range(head_dim // 2)]
    for t in range(length):
        cos_row, sin_row = [], []
        for lam in lams:
            angle = (t % lam) * (2 * math.pi / lam)
            cos_row.append(math.cos(angle))
            sin_row.append(math.sin(angle))
        cos_rows.append(cos_row)
        sin_rows.append(sin_row)
    return cos_rows, sin_rows


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
