"""The one exception type that package CLIs turn into a one-line message."""

from __future__ import annotations


class UserError(ValueError):
    """A problem the user can fix: bad config value, malformed data line, missing model.

    The message names the field (or file and line) and what is allowed. Package code
    raises it (or a plain ``ValueError``) and ``papershelf.cli.run_app`` prints it as a
    single ``error: ...`` line instead of a traceback.
    """


class RunFailed(UserError):
    """The input was fine but the run did not complete (a claim raised, training diverged):
    printed as one line like ``UserError``, with exit status 1 instead of 2."""

    exit_code = 1
