from __future__ import annotations

import pytest
import torch


@pytest.fixture
def input_ids():
    return torch.randint(0, 100, (4, 9), generator=torch.Generator().manual_seed(0))
