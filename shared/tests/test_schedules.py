import math

import pytest
import torch
from papershelf.errors import UserError
from papershelf.schedules import lr_factor, lr_lambda, make_scheduler


def lrs_seen(kind, warmup, total, base=0.1):
    """The learning rate each of ``total`` optimizer steps actually used."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=base)
    sched = make_scheduler(opt, kind, warmup, total)
    seen = []
    for _ in range(total):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return seen


def test_linear_warmup_then_linear_decay_explicit():
    # W=2, T=6: warm-up 1/2, 2/2; decay (T-s)/(T-W) = 4/4, 3/4, 2/4, 1/4
    assert lrs_seen("linear", 2, 6, base=1.0) == pytest.approx([0.5, 1.0, 1.0, 0.75, 0.5, 0.25])


def test_cosine_and_constant_explicit():
    assert lrs_seen("constant", 0, 4, base=1.0) == [1.0] * 4
    expected = [0.5 * (1 + math.cos(math.pi * s / 4)) for s in range(4)]
    assert lrs_seen("cosine", 0, 4, base=1.0) == pytest.approx(expected)


def test_one_cycle_explicit_points():
    total, warm, low, floor = 100, 20, 1 / 25, 1 / 25e4
    assert lr_factor("one_cycle", 0, warm, total) == pytest.approx(low)
    assert lr_factor("one_cycle", 10, warm, total) == pytest.approx(low + (1 - low) / 2)
    assert lr_factor("one_cycle", warm, warm, total) == pytest.approx(1.0)
    assert lr_factor("one_cycle", 60, warm, total) == pytest.approx(floor + (1 - floor) / 2)
    assert lr_factor("one_cycle", total, warm, total) == pytest.approx(floor)


def test_unknown_schedule_names_the_choices():
    with pytest.raises(UserError, match=r"^schedule: must be one of constant, linear, cosine"):
        lr_lambda("step", 0, 10)
