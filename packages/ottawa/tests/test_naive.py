import numpy as np
import pytest
from ottawa import naive


def test_old_names_warn_and_still_work():
    C_aug = np.array([[0.1, 0.9, 0.5], [0.8, 0.2, 0.5]])
    with pytest.warns(DeprecationWarning, match="naive_one_side_ot"):
        old = naive.one_side_ot_numpy
    np.testing.assert_array_equal(old(C_aug, 0.05), naive.naive_one_side_ot(C_aug, 0.05))
    import ottawa
    from papershelf.metrics import roc_auc

    with pytest.warns(DeprecationWarning, match="papershelf.metrics.roc_auc"):
        assert ottawa.roc_auc is roc_auc
