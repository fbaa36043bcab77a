"""Reading SRC/MT text files (one sentence per line) with line-numbered errors."""

from __future__ import annotations

from pathlib import Path

from papershelf.errors import UserError

__all__ = ["check_out_dir", "decode_utf8", "read_lines", "read_pair_files"]


def decode_utf8(path: Path) -> str:
    """The text of ``path``; a file that is not UTF-8 is refused naming ``file:line``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UserError(
            f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None


def read_lines(path: Path) -> list[str]:
    """Lines split on "\\n" only (a trailing "\\r" is dropped; U+2028 and other Unicode line
    separators stay inside their line, unlike ``str.splitlines``)."""
    lines = decode_utf8(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [x[:-1] if x.endswith("\r") else x for x in lines]


def check_out_dir(out: str | Path) -> Path:
    """Refuse, before any work, an output folder that is a file or cannot be written."""
    import os
    import tempfile

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out: {out} is a file; give a folder (it is created if missing)")
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"--out: {probe} is a file, so {out} cannot be created")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"--out: {probe} is not writable; choose another folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise UserError(
            f"--out: cannot write in {out} ({exc.strerror}); choose another folder"
        ) from None
    return out


def read_pair_files(src: str | Path, mt: str | Path) -> tuple[list[str], list[str]]:
    """Lines of both files; refuses different line counts and empty lines (naming the line)."""
    src, mt = Path(src), Path(mt)
    a, b = read_lines(src), read_lines(mt)
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
