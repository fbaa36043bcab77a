"""Reading SRC/MT text files (one sentence per line) with line-numbered errors."""

from __future__ import annotations

from pathlib import Path

from papershelf.errors import UserError

__all__ = ["read_pair_files"]


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return path.read_text(encoding="utf-8").splitlines()


def read_pair_files(src: str | Path, mt: str | Path) -> tuple[list[str], list[str]]:
    """Lines of both files; refuses different line counts and empty lines (naming the line)."""
    src, mt = Path(src), Path(mt)
    a, b = _lines(src), _lines(mt)
    if len(a) != len(b):
        first = min(len(a), len(b)) + 1
        longer = src if len(a) > len(b) else mt
        raise UserError(
            f"{src} has {len(a)} lines but {mt} has {len(b)}; first mismatch at line {first} "
            f"(only in {longer})"
        )
    for path, lines in ((src, a), (mt, b)):
        for k, line in enumerate(lines, start=1):
            if not line.split():
                raise UserError(
                    f"{path}:{k}: empty line; every line needs a sentence with at least one word"
                )
    if not a:
        raise UserError(f"{src}: the file is empty")
    return a, b
