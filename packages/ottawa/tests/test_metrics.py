import numpy as np
import pytest
from ottawa.metrics import percent_correct_pairs, roc_auc


def test_percent_correct_pairs_hand_example_with_ties():
    # pairs with y_i < y_j: (0,2) (0,3) (1,2) (1,3) (2,3); the tie x1 == x2 is wrong -> 4/5
    assert percent_correct_pairs([1, 1, 2, 3], [0.1, 0.5, 0.5, 0.9]) == pytest.approx(0.8)
    assert roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9]) == pytest.approx(0.875)  # ties count 1/2


def test_percent_correct_pairs_degenerate():
    assert percent_correct_pairs([2, 2, 2], [0.1, 0.2, 0.3]) == 0.0
    assert percent_correct_pairs([1, 2], [0.2, 0.1]) == 0.0
    with pytest.raises(ValueError, match="shapes"):
        percent_correct_pairs([1, 2], [0.1])


def test_roc_auc_matches_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    x = np.round(rng.normal(size=200) + y, 1)  # rounding makes ties
    assert roc_auc(y, x) == pytest.approx(sk.roc_auc_score(y, x), abs=1e-12)
    assert np.isnan(roc_auc([1, 1], [0.1, 0.2]))
