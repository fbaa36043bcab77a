"""KronA's user-facing error: a one-line message naming the field and what is allowed."""

from __future__ import annotations

from papershelf.errors import UserError


class KronAError(UserError):
    """Bad KronA configuration or input (a ``papershelf.UserError``, hence a ``ValueError``)."""


__all__ = ["KronAError"]
