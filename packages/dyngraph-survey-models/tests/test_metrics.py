import numpy as np
import pytest
import torch
from dyngraph_survey_models import metrics as M
from dyngraph_survey_models.naive import brute_force_ranks
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 60), st.integers(2, 6))
def test_ap_auc_match_sklearn(seed, n, levels):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[0], y[1] = 0, 1
    s = rng.integers(0, levels, n).astype(float)  # many ties
    assert M.average_precision(torch.tensor(s), torch.tensor(y)) == pytest.approx(
        average_precision_score(y, s), abs=1e-12
    )
    assert M.roc_auc(torch.tensor(s), torch.tensor(y)) == pytest.approx(
        roc_auc_score(y, s), abs=1e-12
    )


def test_hand_computed_rank():
    pos, neg = torch.tensor([0.5]), torch.tensor([[0.7, 0.5, 0.1]])
    assert M.ranks(pos, neg).tolist() == [2.5]
    assert M.mrr(pos, neg) == pytest.approx(0.4)
    assert M.hits_at(pos, neg, 1) == 0.0 and M.hits_at(pos, neg, 3) == 1.0


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 1000))
def test_ranks_match_brute_force(seed):
    g = torch.Generator().manual_seed(seed)
    pos = torch.randint(0, 4, (7,), generator=g).float()
    neg = torch.randint(0, 4, (7, 5), generator=g).float()
    assert M.ranks(pos, neg).tolist() == brute_force_ranks(pos.tolist(), neg.tolist())


def test_metric_errors():
    with pytest.raises(ValueError, match="at least one positive"):
        M.average_precision(torch.tensor([0.1, 0.2]), torch.tensor([1, 1]))
    with pytest.raises(ValueError, match="shape"):
        M.ranks(torch.zeros(3), torch.zeros(2, 4))
