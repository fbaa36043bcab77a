import logging
import warnings

import numpy as np
from papershelf.quiet import quiet_third_party


def test_known_noise_is_silenced_and_restored(recwarn):
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    with quiet_third_party():
        np.mean([])
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
        assert hf_logging.get_verbosity() == logging.ERROR
        assert not hf_logging.is_progress_bar_enabled()
    assert len(recwarn) == 0
    assert hf_logging.get_verbosity() == before


def test_errors_and_other_warnings_pass_through():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_third_party():
            warnings.warn("the data has a constant column", UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["the data has a constant column"]


def test_verbose_hides_nothing():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_third_party(verbose=True):
            np.mean([])
    assert any("Mean of empty slice" in str(w.message) for w in seen)
