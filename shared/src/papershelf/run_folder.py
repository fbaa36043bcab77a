"""Run folders that resume only what they hold: a ``train``/``fit`` command records what
made its ``--out`` folder (arguments and the hash of each data file) and a rerun into it
continues only when that matches.

    resuming = prepare_run_folder(out, {"lr": lr, "seed": seed, ...}, files=[train_file],
                                  overwrite=overwrite, resume=resume)

A mismatch is refused with one line naming the arguments that differ; ``--overwrite``
starts over (the folder's contents are deleted, only when it is a run folder), ``--resume``
continues anyway.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from papershelf.errors import UserError
from papershelf.io import atomic_write_json

FINGERPRINT_NAME = "run_fingerprint.json"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(arguments: dict[str, Any], files: list[Path | str | None] = ()) -> dict[str, Any]:
    """What identifies a run: its arguments (JSON values) and each data file's sha256."""
    record = {
        k: v if isinstance(v, int | float | str | bool | None) else str(v)
        for k, v in arguments.items()
    }
    for f in files:
        if f is not None and Path(f).is_file():
            record[f"sha256({Path(f).name})"] = file_sha256(Path(f))
    return record


def check_writable_folder(out: Path, field: str = "out") -> None:
    """A one-line ``UserError`` unless ``out`` is (or can be made) a writable folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{field}: {out} is a file; give a folder")
    parent = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{field}: cannot write in {parent} (permission denied)")


def prepare_run_folder(
    out: Path,
    arguments: dict[str, Any],
    *,
    files: list[Path | str | None] = (),
    overwrite: bool = False,
    resume: bool = False,
) -> bool:
    """Make ``out`` ready for a run; return whether the run continues an earlier one there.

    Raises:
        UserError: ``out`` is a file or not writable; it holds a run made with other
            arguments or data (without ``overwrite`` or ``resume``); or it holds files that
            are not a run's.
    """
    out = Path(out)
    check_writable_folder(out)
    record = fingerprint(arguments, files)
    stored_path = out / FINGERPRINT_NAME
    if stored_path.is_file():
        if overwrite:
            shutil.rmtree(out)
        else:
            stored = json.loads(stored_path.read_text(encoding="utf-8"))
            changed = [
                f"{k}: {stored.get(k)!r} -> {record.get(k)!r}"
                for k in sorted(set(stored) | set(record))
                if stored.get(k) != record.get(k)
            ]
            if changed and not resume:
                raise UserError(
                    f"out: {out} holds a run made with other arguments ({'; '.join(changed)}); "
                    "pass --overwrite to start over or --resume to continue it"
                )
            atomic_write_json(stored_path, record)
            return True
    elif out.is_dir() and any(out.iterdir()):
        raise UserError(f"out: {out} is not empty and holds no run; give a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(stored_path, record)
    return False
