"""Diagnostics against explicit computations."""

import torch
from integral_transformer.analysis import attention_stats, rank_exceeds, representation_rank
from integral_transformer.config import LMConfig
from integral_transformer.model import IntegralLM


def test_rank_and_exceeds():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2, 8, 3, generator=g) @ torch.randn(3, 16, generator=g)
    b = torch.randn(2, 8, 16, generator=g)
    assert representation_rank(a).tolist() == [3, 3]
    assert representation_rank(b).tolist() == [8, 8]
    assert rank_exceeds(torch.tensor([[8, 8]]), torch.tensor([[3, 8]]), last=1) == [50.0]


def test_attention_stats_integral_nonnegative_cog_signed():
    torch.manual_seed(0)
    ids = torch.randint(0, 64, (3, 10))
    ids[:, 0] = 0
    special, punct = ids == 0, (ids >= 1) & (ids <= 6)
    intg = attention_stats(IntegralLM(LMConfig(placement="all")), ids, special, punct)
    assert (intg["min_weight"] >= 0).all() and (intg["negative_bos"] == 0).all()
    assert ((intg["mass_on_noise"] >= 0) & (intg["mass_on_noise"] <= 1)).all()
    cog = attention_stats(
        IntegralLM(LMConfig(attention="cog", placement="all")), ids, special, punct
    )
    assert (cog["min_weight"] < 0).any()
    diff = attention_stats(IntegralLM(LMConfig(attention="diff")), ids, special, punct)
    assert diff["entropy"].shape == (4, 2) and diff["entropy"][3, 1].isnan()
