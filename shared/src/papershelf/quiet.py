"""Silencing third-party chatter inside a claim: load reports, download bars, known warnings.

Only noise is hidden: log records below ERROR from transformers and huggingface_hub, their
progress bars, and warnings of the categories that libraries use for advice
(``DeprecationWarning``, ``FutureWarning``) or that NumPy raises for an empty or undefined
mean. Exceptions and errors pass through untouched. ``verbose=True`` hides nothing.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

NOISY_ENV = {"TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
NUMPY_NOISE = ("Mean of empty slice", "invalid value encountered", "Degrees of freedom <= 0")


@contextmanager
def quiet_third_party(verbose: bool = False) -> Iterator[None]:
    """Within the block, third-party libraries log only errors and draw no progress bars."""
    if verbose:
        yield
        return
    saved_env = {key: os.environ.get(key) for key in NOISY_ENV}
    os.environ.update(NOISY_ENV)
    restore = _quiet_loaded_libraries()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            for message in NUMPY_NOISE:
                warnings.filterwarnings("ignore", message=message, category=RuntimeWarning)
            yield
    finally:
        restore()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _quiet_loaded_libraries():
    """Quiet transformers if it is already imported (a later import reads the environment);
    return a function that puts its verbosity and progress bars back."""
    if "transformers" not in sys.modules:
        return lambda: None
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    def restore() -> None:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()

    return restore
