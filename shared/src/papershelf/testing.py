"""Helpers for the packages' tests (nothing here is imported by library code)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any


def run_console_script(
    main: Callable[[], None], prog: str, args: Sequence[str], monkeypatch: Any, capsys: Any
) -> tuple[int, str, str]:
    """Run a console script's ``main`` in this process as ``prog ARGS`` (pytest's
    ``monkeypatch`` sets ``sys.argv``, ``capsys`` captures): ``(exit status, stdout, stderr)``."""
    monkeypatch.setattr(sys, "argv", [prog, *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(bool(exc.code))
    out = capsys.readouterr()
    return code, out.out, out.err
