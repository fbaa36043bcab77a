"""``PosGenConfig``: a PosGen task, validated without importing torch (see ``posgen``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from papershelf.errors import UserError

RULES = ("recursive", "cot", "semi_recursive")
SPLITS = ("disjoint", "official")
IGNORE_INDEX = -100


@dataclass
class PosGenConfig:
    """A PosGen task.

    Attributes:
        rule: ``recursive``, ``cot`` or ``semi_recursive``.
        modulus: m, the number of tokens (paper 17).
        far: j, arguments taken from the start / the pointer (paper 1).
        near: k, arguments taken from just before (paper 3).
        train_len: tokens per training sequence, without [EOS] (paper 64).
        test_len: tokens per val/test sequence (paper 256).
        n_train, n_val, n_test: numbers of sequences.
        split: ``disjoint`` (distinct seeds everywhere, as the paper says) or ``official`` (the
            official code: seeds cycle through the C(m, j+k) combinations, val/test reuse the
            first training seeds).
        seed: seed of the disjoint split.
    """

    rule: str
    modulus: int = 17
    far: int = 1
    near: int = 3
    train_len: int = 64
    test_len: int = 256
    n_train: int = 10000
    n_val: int = 1000
    n_test: int = 1000
    split: str = "disjoint"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise UserError(f"rule: {self.rule!r} is unknown; choose from {', '.join(RULES)}")
        if self.split not in SPLITS:
            raise UserError(f"split: {self.split!r} is unknown; choose from {', '.join(SPLITS)}")
        if self.modulus < 2:
            raise UserError(f"modulus: must be >= 2, got {self.modulus}")
        if self.far < 1 or self.near < 1:
            raise UserError(f"far/near: must be >= 1, got far={self.far}, near={self.near}")
        if self.train_len <= self.n_seed:
            raise UserError(
                f"train_len: must be > far + near = {self.n_seed}, got {self.train_len}"
            )
        if self.test_len <= self.train_len:
            raise UserError(
                f"test_len: must be > train_len = {self.train_len}, got {self.test_len}"
            )
        if min(self.n_train, self.n_val, self.n_test) < 0:
            raise UserError("n_train/n_val/n_test: must be >= 0")
        total, available = self.n_train + self.n_val + self.n_test, self.modulus**self.n_seed
        if self.split == "disjoint" and total > available:
            raise UserError(
                f"n_train + n_val + n_test: {total} disjoint sequences requested but only {available} "
                f"distinct seeds exist (modulus^(far+near) = {self.modulus}^{self.n_seed})"
            )

    @property
    def n_seed(self) -> int:
        return self.far + self.near

    @property
    def vocab_size(self) -> int:
        return self.modulus + 1

    @property
    def eos(self) -> int:
        return self.modulus

    def to_dict(self) -> dict:
        return asdict(self)
