"""``distill`` on the shared loop: teacher untouched, cache reused, resume, bad input."""

import pytest
import torch
from continuation_kd.config import ContinuationKDConfig, DistillConfig, TAKDConfig
from continuation_kd.distillation import distill
from papershelf.train import FunctionHook
from torch import nn

N, K = 48, 3


def data(seed=0, n=N):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=gen)
    return {"x": x, "labels": (x[:, 0] > 0).long() + (x[:, 1] > 1).long()}


def net(seed, k=K, hidden=8):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, hidden), nn.ReLU(), nn.Linear(hidden, k))


class CountingTeacher(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = net(5, hidden=16)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.net(x)


CFG = ContinuationKDConfig(t_max=2, n_epochs=4, psi="linear:4:2", margin=0.5)
ARGS = DistillConfig(epochs=4, batch_size=16, select="last")


def test_teacher_is_unchanged_and_logits_cached_once(tmp_path):
    teacher = CountingTeacher().train()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    cache = tmp_path / "teacher.safetensors"
    with pytest.warns(UserWarning, match="eval"):
        distill(net(1), teacher, data(), data(1), config=CFG, train_args=ARGS, cache_path=cache)
    assert teacher.calls == 1  # one forward over the 48 training rows, never per step
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    assert cache.is_file()
    distill(net(1), teacher, data(), data(1), config=CFG, train_args=ARGS, cache_path=cache)
    assert teacher.calls == 1  # reused from the cache
    with pytest.raises(ValueError, match="another dataset"):
        distill(net(1), teacher, data(7), data(1), config=CFG, train_args=ARGS, cache_path=cache)


def test_uncached_teacher_skipped_once_psi_is_one():
    teacher = CountingTeacher().eval()
    args = DistillConfig(epochs=4, batch_size=16, cache_teacher=False)
    distill(net(1), teacher, data(), data(1), config=CFG, train_args=args)
    # psi = 1 from epoch 3: the teacher runs in epochs 1-2 only (3 steps each) + label check
    assert teacher.calls == 2 * 3 + 1


def test_same_seed_same_weights_and_history():
    a = distill(net(1), CountingTeacher(), data(), data(1), config=CFG, train_args=ARGS)
    b = distill(net(1), CountingTeacher(), data(), data(1), config=CFG, train_args=ARGS)
    assert a.history == b.history
    assert all(torch.equal(a.last_state[k], b.last_state[k]) for k in a.last_state)
    assert [h["phi"] for h in a.history] == [0.5, 0.5, 1.0, 1.0]
    assert [h["psi"] for h in a.history] == [0.25, 0.5, 1.0, 1.0]


def test_resume_mid_run_gives_the_same_schedule_and_weights(tmp_path):
    teacher = CountingTeacher().eval()
    full = distill(
        net(1), teacher, data(), data(1), config=CFG, train_args=ARGS, out_dir=tmp_path / "a"
    )

    def stop_after_epoch_2(state):
        if state.step == 6:
            state.stop = True

    out = tmp_path / "b"
    distill(
        net(1),
        teacher,
        data(),
        data(1),
        config=CFG,
        train_args=ARGS,
        out_dir=out,
        hooks=[FunctionHook(on_step_end=stop_after_epoch_2)],
    )
    resumed = distill(net(1), teacher, data(), data(1), config=CFG, train_args=ARGS, out_dir=out)
    assert resumed.history == full.history
    for k, v in full.last_state.items():
        torch.testing.assert_close(resumed.last_state[k], v, rtol=0, atol=0)


def test_methods_run_and_best_selection():
    teacher = CountingTeacher().eval()
    for method, cfg in (("kd", None), ("finetune", None), ("takd", TAKDConfig())):
        result = distill(
            net(1),
            teacher,
            data(),
            data(1),
            method=method,
            config=cfg,
            train_args=DistillConfig(epochs=3, batch_size=16),
            ta=net(2, hidden=12),
        )
        assert 1 <= result.best_epoch <= 3
        assert result.metrics["best_val"] >= result.history[-1]["accuracy"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"teacher": net(5, k=4)}, "same label count"),
        ({"train": {"x": torch.randn(8, 6), "labels": torch.full((8,), 3)}}, "outside 0..2"),
        ({"method": "annealing"}, "AnnealingKDConfig"),
        ({"method": "bogus"}, "method"),
        ({"train_args": DistillConfig(epochs=5)}, "n_epochs = 4"),
        ({"train_args": DistillConfig(epochs=4, batch_size=100)}, "batch_size"),
    ],
)
def test_bad_input_is_one_line(kwargs, match):
    args = {
        "teacher": CountingTeacher(),
        "train": data(),
        "method": "continuation",
        "train_args": ARGS,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match) as info:
        distill(
            net(1),
            args["teacher"],
            args["train"],
            data(1),
            method=args["method"],
            config=CFG,
            train_args=args["train_args"],
        )
    assert "\n" not in str(info.value)
