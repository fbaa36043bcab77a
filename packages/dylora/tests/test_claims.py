"""The claims' quick runs (the cheapest one always; the MiniLM ones are slow)."""

from __future__ import annotations

import math

import pytest
from papershelf.registry import Result, RunContext, get_paper
from papershelf.threads import torch_threads


def run_claim(claim_id: str, out) -> Result:
    """The claim's quick run on the threads its Claim declares (as papershelf's runner does)."""
    claim = get_paper("dylora").claim(claim_id)
    with torch_threads(claim.threads):
        return claim.resolve()(RunContext(quick=True, seed=0, out=out))


def check_result(result: Result) -> None:
    assert isinstance(result, Result) and result.holds in (True, False, None)
    assert result.holds is not None or result.reason
    assert math.isfinite(result.ours) and result.baseline is not None
    assert result.metric and result.note and result.config and result.plots


def test_linear_claim_quick_run_and_direction(tmp_path):
    result = run_claim("rank-sweep-linear", tmp_path)
    check_result(result)
    assert (tmp_path / result.plots[0]).is_file()
    mse = result.details["mse_by_rank"]
    oracle = mse["oracle best rank-b (SVD)"]
    # fixed seed: DyLoRA beats LoRA-8 truncated at ranks 1-2 and nobody beats the oracle
    for b in ("1", "2"):
        truncated = min(mse["LoRA r=8 truncated (α/b)"][b], mse["LoRA r=8 truncated (α/r_max)"][b])
        assert mse["DyLoRA α/b, frozen"][b] < truncated
        assert mse["DyLoRA α/b, all"][b] < truncated
    for row in mse.values():
        assert all(row[b] >= oracle[b] - 1e-6 for b in oracle)
    # LoRA-8 at full rank must reach the oracle (a frozen-mode baseline bug would not)
    assert mse["LoRA r=8 truncated (α/b)"]["8"] < 0.005


@pytest.mark.slow
def test_minilm_claim_direction_at_ranks_1_2(tmp_path):
    result = run_claim("rank-sweep-minilm", tmp_path)
    check_result(result)
    acc = result.details["accuracy_by_rank"]
    for b in ("1", "2"):
        truncated = max(acc["LoRA r=8 truncated (α/b)"][b], acc["LoRA r=8 truncated (α/r_max)"][b])
        assert acc["DyLoRA (one run)"][b] >= truncated


@pytest.mark.slow
def test_search_free_claim_quick_run(tmp_path):
    result = run_claim("search-free", tmp_path)
    check_result(result)
    assert result.details["ranks"] == [1, 2, 4, 8]
