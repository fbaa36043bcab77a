"""The contract tests' settings: ``skeleton`` (the static checks beside this file) is
importable, and the fixture package trees under ``fixtures/`` are data, never collected."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

collect_ignore = ["fixtures"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "whole_shelf: a check of the whole shelf, run once by the contract session "
        "(its -k 'papershelf or whole_shelf' matches the marker's name)",
    )
