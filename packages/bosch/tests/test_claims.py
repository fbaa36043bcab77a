"""Claims: the exact KV-saving claim runs; the quick-model claims run in the slow session."""

import pytest
from bosch.claims import kv_saving
from papershelf.registry import RunContext


def test_kv_saving_claim(tmp_path):
    res = kv_saving.run(RunContext(quick=True, seed=0, out=tmp_path))
    assert res.holds is True and res.ours <= 1e-9
    assert res.details["per_ratio"]["0.5"]["formula"] == pytest.approx(0.484375)


@pytest.mark.slow
def test_quick_model_claims(tmp_path):
    from bosch.claims import bosch_vs_baselines, stage_ablation, turnover

    ctx = RunContext(quick=True, seed=0, out=tmp_path)
    c1 = bosch_vs_baselines.run(ctx)
    assert c1.holds in (True, False, None)
    if c1.holds is not None:
        for row in c1.details["per_ratio"].values():
            masks = row["masks"]
            counts = {k: m.count("1") for k, m in masks.items() if k not in ("rand", "bme", "intr")}
            assert len(set(counts.values())) == 1  # every head-level mask meets the exact ratio
    assert turnover.run(ctx).holds in (True, False, None)
    assert stage_ablation.run(ctx).holds in (True, False, None)
