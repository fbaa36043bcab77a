"""Quick runs of the two expensive claims (slow): schema only, their direction is not asserted."""

from __future__ import annotations

import json

import pytest
from papershelf.registry import Result, RunContext


@pytest.mark.slow
@pytest.mark.parametrize("module", ["finetune", "inference"])
def test_quick_run_schema(module, tmp_path):
    import importlib

    run = importlib.import_module(f"krona.claims.{module}").run
    result = run(RunContext(quick=True, seed=0, out=tmp_path))
    assert isinstance(result, Result) and isinstance(result.holds, bool)
    json.dumps({"details": result.details, "config": result.config})
    if module == "inference":
        assert result.details["merged_vs_unmerged_max_abs_diff"] < 1e-4
