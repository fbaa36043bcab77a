"""Inverse frequencies of every RoPE variant, Resonance rounding, rotary angles, critical pairs, feature gap.

All computations run in float64; ``compute_inv_freq`` returns float32 like transformers.
Notation: d_rot rotary dims, pairs j = 0 .. d_rot/2 - 1, theta_j = b^(-2j/d_rot),
wavelength lambda_j = 2 pi / theta_j.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from resonance_rope.config import RopeConfig

TWO_PI = 2.0 * math.pi


@dataclass
class RopeFrequencies:
    """What a RoPE variant computes once.

    Attributes:
        inv_freq: (d_rot/2,) float64 angular frequencies theta_j.
        attention_factor: multiplier of cos and sin (logits scale by its square).
        int_wavelength: (d_rot/2,) int64, the integer wavelength of resonant pairs, 0 elsewhere.
    """

    inv_freq: torch.Tensor
    attention_factor: float
    int_wavelength: torch.Tensor


def default_inv_freq(rotary_dim: int, base: float) -> torch.Tensor:
    """theta_j = base^(-2j/d), (d/2,) float64 (RoFormer; transformers' default)."""
    exponent = torch.arange(0, rotary_dim, 2, dtype=torch.float64) / rotary_dim
    return 1.0 / (base**exponent)


def yarn_get_mscale(scale: float, mscale: float = 1.0) -> float:
    """g(s, mu) = 0.1 mu ln s + 1 for s > 1, else 1 (YaRN eq. for sqrt(1/t))."""
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def yarn_attention_factor(cfg: RopeConfig, factor: float) -> float:
    """transformers' rule: explicit value, else g(s, mscale)/g(s, mscale_all_dim), else g(s, 1)."""
    if cfg.attention_factor is not None:
        return float(cfg.attention_factor)
    if cfg.mscale and cfg.mscale_all_dim:
        return yarn_get_mscale(factor, cfg.mscale) / yarn_get_mscale(factor, cfg.mscale_all_dim)
    return yarn_get_mscale(factor)


def yarn_correction_range(
    rotary_dim: int,
    base: float,
    original_len: int,
    beta_fast: float,
    beta_slow: float,
    truncate: bool = True,
) -> tuple[float, float]:
    """(low, high) pair-index bounds of the YaRN ramp (reference code's ``find_correction_range``).

    corr(r) = d ln(L_orig / (2 pi r)) / (2 ln b), low = corr(beta_fast), high = corr(beta_slow),
    floored/ceiled when ``truncate``, clamped to [0, d - 1].
    """

    def corr(rotations: float) -> float:
        return rotary_dim * math.log(original_len / (rotations * TWO_PI)) / (2 * math.log(base))

    low, high = corr(beta_fast), corr(beta_slow)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    return max(low, 0), min(high, rotary_dim - 1)


def yarn_extrapolation_weight(cfg: RopeConfig, original_len: int) -> torch.Tensor:
    """w_j in [0, 1], (d_rot/2,): 1 keeps theta_j (extrapolate), 0 uses theta_j / s (interpolate)."""
    d = cfg.rotary_dim
    if cfg.ramp == "paper":
        # Resonance RoPE sec. 3.3 restating YaRN: gamma linear in r = L / lambda between alpha and beta.
        ratio = original_len * default_inv_freq(d, cfg.base) / TWO_PI
        return ((ratio - cfg.beta_slow) / (cfg.beta_fast - cfg.beta_slow)).clamp(0, 1)
    low, high = yarn_correction_range(
        d, cfg.base, original_len, cfg.beta_fast, cfg.beta_slow, cfg.truncate
    )
    if low == high:
        high += 0.001
    ramp = ((torch.arange(d // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
    return 1.0 - ramp


def _yarn(cfg: RopeConfig, factor: float) -> tuple[torch.Tensor, float]:
    theta = default_inv_freq(cfg.rotary_dim, cfg.base)
    w = yarn_extrapolation_weight(cfg, cfg.original_max_position_embeddings)
    inv_freq = (theta / factor) * (1 - w) + theta * w
    return inv_freq, yarn_attention_factor(cfg, factor)


def _base_inv_freq(cfg: RopeConfig, seq_len: int | None) -> tuple[torch.Tensor, float]:
    d, s = cfg.rotary_dim, cfg.factor
    if cfg.rope_type == "default":
        return default_inv_freq(d, cfg.base), 1.0
    if cfg.rope_type == "linear":
        return default_inv_freq(d, cfg.base) / s, 1.0
    if cfg.rope_type == "ntk":
        return default_inv_freq(d, cfg.base * s ** (d / (d - 2))), 1.0
    if cfg.rope_type == "dynamic":
        length = cfg.max_position_embeddings
        n = length if seq_len is None else max(int(seq_len), length)
        base = cfg.base * ((s * n / length) - (s - 1)) ** (d / (d - 2))
        return default_inv_freq(d, base), 1.0
    if cfg.rope_type == "yarn":
        return _yarn(cfg, s)
    if cfg.rope_type == "dynamic_yarn":
        # seq_len None is how transformers builds the table it reuses up to
        # max_position_embeddings: plain RoPE there (s = 1), as its own "dynamic" does.
        orig = cfg.original_max_position_embeddings
        scale = 1.0 if seq_len is None else max(1.0, int(seq_len) / orig)
        return _yarn(cfg, scale)
    raise AssertionError(cfg.rope_type)  # RopeConfig validated it


def resonance_round(
    inv_freq: torch.Tensor, max_wavelength: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Round every wavelength to the nearest integer (Resonance RoPE, Algorithm 1).

    Args:
        inv_freq: (P,) angular frequencies.
        max_wavelength: round only pairs with lambda <= this (``resonance_scope="pre_critical"``).

    Returns:
        (inv_freq~ (P,) float64 with theta~ = 2 pi / round(lambda), int_wavelength (P,) int64,
        0 for pairs left unrounded).
    """
    inv = inv_freq.to(torch.float64)
    lam = TWO_PI / inv
    lam_int = torch.round(lam).clamp_min(1)
    mask = (
        torch.ones_like(lam, dtype=torch.bool) if max_wavelength is None else lam <= max_wavelength
    )
    new_inv = torch.where(mask, TWO_PI / lam_int, inv)
    return new_inv, torch.where(mask, lam_int, torch.zeros_like(lam_int)).to(torch.int64)


def compute_rope(cfg: RopeConfig, seq_len: int | None = None) -> RopeFrequencies:
    """Frequencies, attention factor and integer wavelengths of ``cfg`` (scaling first, then rounding)."""
    inv_freq, attention_factor = _base_inv_freq(cfg, seq_len)
    int_wavelength = torch.zeros(inv_freq.shape, dtype=torch.int64)
    if cfg.resonance:
        pre = cfg.resonance_scope == "pre_critical"
        limit = cfg.original_max_position_embeddings if pre else None
        inv_freq, int_wavelength = resonance_round(inv_freq, limit)
    return RopeFrequencies(inv_freq, float(attention_factor), int_wavelength)


def compute_inv_freq(cfg: RopeConfig, seq_len: int | None = None) -> tuple[torch.Tensor, float]:
    """(inv_freq (d_rot/2,) float32, attention_factor) of a RoPE variant.

    ``seq_len`` matters only for the dynamic variants (the current sequence length); ``None``
    gives their unscaled table (s = 1), which transformers uses up to
    ``max_position_embeddings``.
    """
    freqs = compute_rope(cfg, seq_len)
    return freqs.inv_freq.to(torch.float32), freqs.attention_factor


def wavelengths(inv_freq: torch.Tensor) -> torch.Tensor:
    """lambda_j = 2 pi / theta_j, (P,) float64."""
    return TWO_PI / inv_freq.to(torch.float64)


def rotary_angles(
    positions: torch.Tensor, inv_freq: torch.Tensor, int_wavelength: torch.Tensor
) -> torch.Tensor:
    """Angles (N, P) float64 for integer positions (N,).

    Resonant pairs (``int_wavelength`` > 0) use (t mod lambda~) * theta~, the remainder taken in
    int64, so t and t + lambda~ give the same angle bit for bit; other pairs use t * theta.
    """
    pos = positions.to(torch.int64)
    inv = inv_freq.to(torch.float64)
    plain = pos[:, None].to(torch.float64) * inv[None, :]
    resonant = int_wavelength > 0
    if not bool(resonant.any()):
        return plain
    safe = torch.where(resonant, int_wavelength, torch.ones_like(int_wavelength))
    reduced = torch.remainder(pos[:, None], safe[None, :]).to(torch.float64) * inv[None, :]
    return torch.where(resonant[None, :], reduced, plain)


def critical_pair(head_dim: int, base: float, train_len: int) -> int:
    """The first pair c with lambda_c >= L (pairs j < c are pre-critical: they saw a full period)."""
    lam = wavelengths(default_inv_freq(head_dim, base))
    return count_pre_critical(lam, train_len)


def count_pre_critical(lam: torch.Tensor, train_len: int) -> int:
    """Number of pairs with wavelength < L (wavelengths increase with the pair index)."""
    return int((lam < train_len).sum())


def feature_gap(
    inv_freq: torch.Tensor,
    train_len: int,
    test_len: int,
    int_wavelength: torch.Tensor | None = None,
) -> torch.Tensor:
    """Feature gap of eq. 8 per pair, (P,) float64, in closed form.

    h_i = max_{n in [L, L')} min_{m < L} |f(x, m)_i - f(x, n)_i| for a unit 2-vector x, where the
    distance is the chord 2 |sin(delta / 2)| and delta the circular distance between the angles
    n theta_i and m theta_i. The nearest training angle is found by a binary search over the
    sorted training angles. Pairs with an integer wavelength (``int_wavelength`` > 0) use the
    integer-modular angle (t mod lambda~) theta~ that ``RotaryEmbedding`` uses.
    """
    if not 0 < train_len < test_len:
        raise ValueError(
            f"test_len: must be > train_len > 0, got train_len={train_len}, test_len={test_len}"
        )
    lam_int = (
        torch.zeros(inv_freq.shape, dtype=torch.int64) if int_wavelength is None else int_wavelength
    )

    def angles(pos: torch.Tensor) -> torch.Tensor:  # (P, N) in [0, 2 pi)
        return torch.remainder(rotary_angles(pos, inv_freq, lam_int).T, TWO_PI)

    train_pos = torch.arange(train_len, dtype=torch.int64)
    test_pos = torch.arange(train_len, test_len, dtype=torch.int64)
    return _gap_from_angles(angles(train_pos), angles(test_pos))


def _gap_from_angles(train_ang: torch.Tensor, test_ang: torch.Tensor) -> torch.Tensor:
    """max over test angles of the chord to the nearest training angle, per pair.

    Args: ``train_ang`` (P, L), ``test_ang`` (P, N), float64 in [0, 2 pi). Returns (P,) float64.
    """
    ring = torch.sort(train_ang, dim=1).values
    ring = torch.cat([ring[:, -1:] - TWO_PI, ring, ring[:, :1] + TWO_PI], dim=1)
    test_ang = test_ang.contiguous()
    idx = torch.searchsorted(ring, test_ang)
    delta = torch.minimum(test_ang - ring.gather(1, idx - 1), ring.gather(1, idx) - test_ang)
    return (2 * torch.sin(delta / 2)).abs().amax(dim=1)


def feature_gap_from_cos_sin(cos: torch.Tensor, sin: torch.Tensor, train_len: int) -> torch.Tensor:
    """Eq. 8's gap per pair measured on given rotary features, e.g. transformers' float32 ones.

    Args:
        cos, sin: (T, P) features of positions 0 .. T-1 (any dtype; a common positive scale such
            as YaRN's attention factor cancels). Positions < ``train_len`` are the training set,
            the rest the test positions.

    Returns:
        (P,) float64: the largest chord between a test feature's angle atan2(sin, cos) and the
        nearest training one (``feature_gap``'s definition, on these features).
    """
    if not 0 < train_len < cos.shape[0]:
        raise ValueError(f"train_len: must be in (0, {cos.shape[0]}) positions, got {train_len}")
    ang = torch.remainder(torch.atan2(sin.to(torch.float64), cos.to(torch.float64)), TWO_PI).T
    return _gap_from_angles(ang[:, :train_len], ang[:, train_len:])
