import pytest
import torch
from dyngraph_survey_models import metrics as M
from dyngraph_survey_models.naive import naive_ranks
from hypothesis import given, settings
from hypothesis import strategies as st


def test_hand_computed_rank():
    pos, neg = torch.tensor([0.5]), torch.tensor([[0.7, 0.5, 0.1]])
    assert M.ranks(pos, neg).tolist() == [2.5]
    assert M.mrr(pos, neg) == pytest.approx(0.4)
    assert M.hits_at(pos, neg, 1) == 0.0 and M.hits_at(pos, neg, 3) == 1.0


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 1000))
def test_ranks_match_naive(seed):
    g = torch.Generator().manual_seed(seed)
    pos = torch.randint(0, 4, (7,), generator=g).float()
    neg = torch.randint(0, 4, (7, 5), generator=g).float()
    assert M.ranks(pos, neg).tolist() == naive_ranks(pos.tolist(), neg.tolist())


def test_metric_errors():
    with pytest.raises(ValueError, match="shape"):
        M.ranks(torch.zeros(3), torch.zeros(2, 4))


def test_ap_auc_are_papershelf_s():
    # the package's own (scores, labels) copies are gone: AP/AUC are papershelf.metrics'
    # (labels, scores), checked against scikit-learn in shared/tests/test_metrics.py
    assert not hasattr(M, "average_precision") and not hasattr(M, "roc_auc")
