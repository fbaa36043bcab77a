import warnings

import pytest
import torch

warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def small_stream():
    from dyngraph_survey_models.synthetic import drifting_bipartite

    return drifting_bipartite(
        num_users=20, num_items=20, num_communities=4, num_events=600, drift_period=100.0, seed=3
    )
