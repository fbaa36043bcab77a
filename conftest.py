"""Test settings shared by every package's suite: hypothesis runs the same examples each
time (``derandomize``), so CI is repeatable; ``HYPOTHESIS_PROFILE=explore`` searches anew."""

import os

try:
    from hypothesis import settings
except ImportError:  # a member whose test group has no hypothesis
    pass
else:
    settings.register_profile("repeatable", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile("explore", deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
