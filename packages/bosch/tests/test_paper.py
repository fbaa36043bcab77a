"""The paper record: claims point at modules of bosch.claims, preconditions declared."""

import importlib

from bosch.paper import PAPER


def test_claims_resolve():
    assert PAPER.id == "bosch" and len(PAPER.claims) == 4
    for claim in PAPER.claims:
        module, _, fn = claim.run.partition(":")
        assert callable(getattr(importlib.import_module(module), fn))
        if claim.id != "kv-saving":
            assert claim.precondition
