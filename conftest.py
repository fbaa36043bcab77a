"""Test settings shared by every package's suite: hypothesis runs the same examples each
time (``derandomize``), so CI is repeatable; ``HYPOTHESIS_PROFILE=explore`` searches anew.
Tests never reach the network (docs/design.md, section 10): the hub libraries read the
offline variables when first imported, so they are set here, before any test module loads,
under plain ``pytest`` as under nox."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

try:
    from hypothesis import settings
except ImportError:  # a member whose test group has no hypothesis
    pass
else:
    settings.register_profile("repeatable", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile("explore", deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
