"""The bench's cases compute the same attention as the library ops and report ratios."""

import torch
from integral_transformer.bench import _cases


def test_cases_run_and_agree():
    cases = _cases(16, 1, 8, 16, 4, "cpu", torch.float64)
    outs = {n: f() for n, f in cases.items()}
    assert set(outs) == {"vanilla", "integral", "diff", "cog", "integral_prob"}
    assert outs["integral"].shape == outs["vanilla"].shape == (1, 8, 16, 16)
    assert outs["diff"].shape == (1, 4, 16, 32)
