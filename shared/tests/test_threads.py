import os

import pytest
import torch
from papershelf.threads import allowed_cores, set_torch_threads


@pytest.fixture
def three_cores(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.delenv("TEST_THREADS", raising=False)
    yield
    torch.set_num_threads(before)


def test_threads_are_the_allowed_cores_capped_by_limit(three_cores):
    assert allowed_cores() == 3
    assert set_torch_threads() == 3 == torch.get_num_threads()
    assert set_torch_threads(limit=2) == 2 == torch.get_num_threads()
    assert set_torch_threads(limit=8) == 3


def test_environment_variable_wins(three_cores, monkeypatch):
    monkeypatch.setenv("TEST_THREADS", "1")
    assert set_torch_threads(limit=2, env="TEST_THREADS") == 1 == torch.get_num_threads()
    monkeypatch.setenv("TEST_THREADS", "")
    assert set_torch_threads(limit=2, env="TEST_THREADS") == 2
