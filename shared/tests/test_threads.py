import os

import pytest
import torch
from papershelf.errors import UserError
from papershelf.threads import THREADS_ENV, allowed_cores, set_torch_threads, torch_threads


@pytest.fixture
def three_cores(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.delenv(THREADS_ENV, raising=False)
    yield
    torch.set_num_threads(before)


def test_threads_are_the_allowed_cores_capped_by_limit(three_cores):
    assert allowed_cores() == 3
    assert set_torch_threads() == 3 == torch.get_num_threads()
    assert set_torch_threads(limit=2) == 2 == torch.get_num_threads()
    assert set_torch_threads(limit=8) == 3


def test_environment_variable_wins(three_cores, monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "1")
    assert set_torch_threads(limit=2) == 1 == torch.get_num_threads()
    monkeypatch.setenv(THREADS_ENV, "")
    assert set_torch_threads(limit=2) == 2


def test_bad_environment_value_is_one_line(three_cores, monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "many")
    with pytest.raises(UserError, match=f"^{THREADS_ENV}: must be a whole number >= 1"):
        set_torch_threads()


def test_context_restores_the_previous_count(three_cores):
    torch.set_num_threads(3)
    with torch_threads(1) as n:
        assert n == 1 == torch.get_num_threads()
    assert torch.get_num_threads() == 3
