"""The bench: report shape on the quick setting (slow), KV saving within 5 % of the formula."""

import pytest
from bosch import bench


def test_agreement_score_is_one_for_the_full_model():
    import torch
    from bosch.config import TaskConfig, TinyLMConfig
    from bosch.mask import HeadMask
    from bosch.model import TinyRetrievalLM
    from bosch.task import make_batch

    model = TinyRetrievalLM(TinyLMConfig(dim=32, num_layers=2, ffn_dim=32)).eval()
    batch = make_batch(TaskConfig(num_keys=4, filler=4), 2, torch.Generator().manual_seed(0))
    score = bench._agreement_score(model, batch, 2)
    assert score(HeadMask.zeros(2, 2)) == 1.0


@pytest.mark.slow
def test_bench_quick_report():
    report = bench.run(quick=True)
    names = {r.name for r in report.rows}
    assert {"search: BOSCH", "decode: full cache", "decode: hybrid cache"} <= names
    gap = next(n for n in report.notes if n.startswith("largest relative gap"))
    assert float(gap.split(": ")[1].split("%")[0]) <= 5.0
