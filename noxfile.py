"""The test matrix: one isolated env per workspace member, the contract tests, and lint.

    uv run nox                                  # everything
    uv run nox -s "tests(package='dylora')"     # one member
    uv run nox -s contract lint                 # cross-package contract, ruff

Each member's env is made by ``uv sync --locked --package <member> --group test``, so a
package that imports something it does not declare fails here. Members are discovered
from the folders, not listed by hand.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True


def member_dirs() -> dict[str, Path]:
    """Workspace members by distribution name: ``shared`` and every ``packages/*``."""
    folders = [
        ROOT / "shared",
        *sorted(p for p in (ROOT / "packages").glob("*") if (p / "pyproject.toml").is_file()),
    ]
    return {
        tomllib.loads((f / "pyproject.toml").read_text())["project"]["name"]: f for f in folders
    }


MEMBERS = member_dirs()
# Offline (tests never touch a hub); and bytecode is cached, or every test process
# recompiles torch and transformers (an empty value unsets PYTHONDONTWRITEBYTECODE).
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": ""}


def sync(session: nox.Session, *args: str) -> None:
    """``uv sync --locked`` into this session's own virtualenv."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--no-default-groups",
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session
@nox.parametrize("package", list(MEMBERS))
def tests(session: nox.Session, package: str) -> None:
    """A member's own tests and the contract for it, in an env that has only that member
    (and its test group)."""
    sync(session, "--package", package, "--group", "test")
    tests = [str(MEMBERS[package] / "tests")]
    if package != "papershelf":
        tests.append(str(ROOT / "tests"))
    session.run(
        "pytest",
        *tests,
        "-q",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={**OFFLINE, "PAPERSHELF_CONTRACT_MEMBER": package},
    )


@nox.session
def contract(session: nox.Session) -> None:
    """The whole-shelf contract (tests/): papershelf installs alone, and with every member
    installed each registers its own paper. The per-member contract runs in tests(package=...)."""
    sync(session, "--all-packages", "--group", "test")
    session.run(
        "pytest",
        str(ROOT / "tests"),
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        "papershelf or whole_shelf",
        *session.posargs,
        env=OFFLINE,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff format --check and ruff check over the whole tree."""
    sync(session, "--only-group", "lint")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")
