import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from papershelf.errors import UserError
from papershelf.train import (
    FunctionHook,
    Hook,
    TrainConfig,
    TrainingDiverged,
    batch_indices,
    fit,
    latest_checkpoint,
    train,
)

HERE = Path(__file__).parent


def regression_problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 5, generator=g)
    y = x @ torch.randn(5, 1, generator=g) + 0.1 * torch.randn(64, 1, generator=g)
    torch.manual_seed(seed + 1)
    model = torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.Dropout(0.1), torch.nn.Tanh(), torch.nn.Linear(8, 1)
    )
    return model, list(zip(x, y, strict=True))


def mse(model, batch):
    return torch.nn.functional.mse_loss(model(batch[0]), batch[1])


def test_loss_goes_down():
    model, data = regression_problem()
    state = fit(model, data, mse, TrainConfig(max_steps=60, batch_size=16, lr=1e-2, progress=False))
    assert state.step == 60 and len(state.losses) == 60
    assert sum(state.losses[-5:]) < 0.5 * sum(state.losses[:5])


def test_batches_cover_each_epoch_once():
    seen = [i for step in range(4) for i in batch_indices(64, 16, seed=3, step=step)]
    assert sorted(seen) == list(range(64))
    assert batch_indices(64, 16, 3, 4) != batch_indices(64, 16, 3, 0)


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    model, data = regression_problem()
    config = dict(
        max_steps=12,
        batch_size=16,
        lr=1e-2,
        warmup_steps=3,
        schedule="linear",
        checkpoint_every=4,
        progress=False,
    )
    fit(model, data, mse, TrainConfig(**config, out_dir=tmp_path / "straight"))

    def crash_at_step_7(state):
        if state.step == 7:
            raise KeyboardInterrupt

    model_a, _ = regression_problem()
    with pytest.raises(KeyboardInterrupt):
        fit(
            model_a,
            data,
            mse,
            TrainConfig(**config, out_dir=tmp_path / "resumed"),
            hooks=[FunctionHook(on_step_start=crash_at_step_7)],
        )
    assert latest_checkpoint(tmp_path / "resumed").name == "checkpoint-4"
    model_b, _ = regression_problem()  # a fresh process would start from new weights too
    state = fit(model_b, data, mse, TrainConfig(**config, out_dir=tmp_path / "resumed"))
    assert state.resumed_from == 4 and state.step == 12 and len(state.losses) == 12
    for p, q in zip(model.parameters(), model_b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert sorted(p.name for p in (tmp_path / "resumed").glob("checkpoint-*")) == [
        "checkpoint-12",
        "checkpoint-8",
    ]


def test_resume_restores_buffers_such_as_running_statistics(tmp_path):
    def make():
        torch.manual_seed(0)
        return torch.nn.Sequential(
            torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 1)
        )

    _, data = regression_problem()
    config = dict(max_steps=8, batch_size=16, checkpoint_every=4, progress=False)
    straight = make()
    fit(straight, data, mse, TrainConfig(**config, out_dir=tmp_path / "a"))

    def crash_at_step_6(state):
        if state.step == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(
            make(),
            data,
            mse,
            TrainConfig(**config, out_dir=tmp_path / "b"),
            hooks=[FunctionHook(on_step_start=crash_at_step_6)],
        )
    resumed = make()
    fit(resumed, data, mse, TrainConfig(**config, out_dir=tmp_path / "b"))
    for (name, p), q in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)


def test_a_resumed_run_keeps_the_evaluation_of_its_checkpoint_step(tmp_path):
    model, data = regression_problem()
    config = TrainConfig(
        max_steps=8,
        batch_size=16,
        checkpoint_every=4,
        eval_every=4,
        progress=False,
        out_dir=tmp_path,
    )

    def evaluate(m):
        return {"loss": float(mse(m, data[0]))}

    def crash_at_step_6(state):
        if state.step == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(
            model,
            data,
            mse,
            config,
            evaluate=evaluate,
            hooks=[FunctionHook(on_step_start=crash_at_step_6)],
        )
    model_b, _ = regression_problem()
    state = fit(model_b, data, mse, config, evaluate=evaluate)
    assert state.resumed_from == 4 and [e["step"] for e in state.evals] == [4, 8]


def test_nan_loss_stops_with_a_message(tmp_path):
    model, data = regression_problem()

    def exploding(model, batch):
        return mse(model, batch) * float("nan")

    with pytest.raises(TrainingDiverged, match="loss: became nan at step 0; lower lr"):
        fit(model, data, exploding, TrainConfig(max_steps=3, batch_size=16, progress=False))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_steps": 0}, "max_steps"),
        ({"lr": -1.0}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"checkpoint_every": 5}, "out_dir"),
        ({"max_grad_norm": 0.0}, "max_grad_norm"),
        ({"seed": -2}, "seed"),
    ],
)
def test_bad_config_values_name_the_field(kwargs, field):
    with pytest.raises(UserError, match=f"^{field}:"):
        TrainConfig(**{"max_steps": 5, **kwargs})


def test_batch_larger_than_data():
    model, data = regression_problem()
    with pytest.raises(UserError, match="batch_size: 128 is larger than the dataset"):
        fit(model, data, mse, TrainConfig(max_steps=1, batch_size=128, progress=False))


def test_two_processes_match_one(tmp_path):
    """DDP over gloo with 2 CPU processes gives the single-process weights (atol 1e-5)."""
    script = HERE / "ddp_job.py"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, str(script), str(tmp_path / "one.safetensors")],
        check=True,
        env=env,
        timeout=300,
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            "29517",
            str(script),
            str(tmp_path / "two.safetensors"),
        ],
        check=True,
        env=env,
        timeout=300,
        capture_output=True,
    )
    from safetensors.torch import load_file

    one, two = load_file(tmp_path / "one.safetensors"), load_file(tmp_path / "two.safetensors")
    assert one.keys() == two.keys()
    for key in one:
        torch.testing.assert_close(one[key], two[key], rtol=0, atol=1e-5)


def naive_adamw_loop(model, x, y, *, steps, batch_size, lr, warmup, seed, max_norm):
    """The loop written out by hand: the oracle for ``train``'s core."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    for step in range(steps):
        factor = (step + 1) / warmup if step < warmup else (steps - step) / (steps - warmup)
        for group in opt.param_groups:
            group["lr"] = lr * factor
        rows = torch.tensor(batch_indices(len(x), batch_size, seed, step))
        loss = torch.nn.functional.mse_loss(model(x[rows]), y[rows])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        opt.step()
        opt.zero_grad()


def test_core_loop_matches_the_loop_written_by_hand():
    _, data = regression_problem()
    x, y = torch.stack([d[0] for d in data]), torch.stack([d[1] for d in data])
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    reference = copy.deepcopy(model)
    config = TrainConfig(
        max_steps=10,
        batch_size=16,
        lr=1e-2,
        warmup_steps=3,
        schedule="linear",
        max_grad_norm=0.5,
        seed=4,
        progress=False,
    )
    train(
        reference.eval(),
        {"x": x, "y": y},
        lambda m, b: torch.nn.functional.mse_loss(m(b["x"]), b["y"]),
        config,
    )
    naive_adamw_loop(model, x, y, steps=10, batch_size=16, lr=1e-2, warmup=3, seed=4, max_norm=0.5)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_hooks_run_in_order_and_eval_is_due_every_n_steps():
    model, data = regression_problem()
    calls = []

    class Recorder(Hook):
        def on_train_start(self, state):
            calls.append(("start", state.step))

        def on_step_start(self, state):
            calls.append(("step_start", state.step))

        def on_step_end(self, state):
            calls.append(("step_end", state.step))

        def on_eval(self, state, metrics):
            calls.append(("eval", state.step))

        def on_train_end(self, state):
            calls.append(("end", state.step))

    def evaluate(m):
        assert not m.training and not torch.is_grad_enabled()
        return {"mse": 1.0}

    state = train(
        model,
        data,
        mse,
        TrainConfig(max_steps=5, batch_size=16, eval_every=2, progress=False),
        hooks=[Recorder()],
        evaluate=evaluate,
    )
    assert calls[:4] == [("start", 0), ("step_start", 0), ("step_end", 1), ("step_start", 1)]
    assert [c for c in calls if c[0] == "eval"] == [("eval", 2), ("eval", 4), ("eval", 5)]
    assert calls[-1] == ("end", 5) and model.training
    assert [e["step"] for e in state.evals] == [2, 4, 5] and state.cpu_seconds > 0


class RunningAverage(Hook):
    """A toy stochastic-weight-averaging hook: the mean of the weights after each step >= start."""

    def __init__(self, start):
        self.start, self.count, self.mean = start, 0, None

    def on_step_end(self, state):
        if state.step < self.start:
            return
        weights = [p.detach().clone() for p in state.model.parameters()]
        self.count += 1
        if self.mean is None:
            self.mean = weights
        else:
            self.mean = [m + (w - m) / self.count for m, w in zip(self.mean, weights, strict=True)]


def test_a_weight_averaging_hook_sees_every_step():
    model, data = regression_problem()
    snapshots = []
    averaging = RunningAverage(start=4)
    config = TrainConfig(max_steps=8, batch_size=16, lr=1e-2, progress=False)
    snap = FunctionHook(
        on_step_end=lambda s: snapshots.append([p.detach().clone() for p in s.model.parameters()])
    )
    train(model, data, mse, config, hooks=[averaging, snap])
    expected = [torch.stack(ws).mean(0) for ws in zip(*snapshots[3:], strict=True)]
    assert averaging.count == 5
    for m, e in zip(averaging.mean, expected, strict=True):
        torch.testing.assert_close(m, e)


def test_a_hook_can_stop_training_and_data_can_be_a_callable():
    model, _ = regression_problem()
    seen_steps = []

    def sample(step):
        seen_steps.append(step)
        g = torch.Generator().manual_seed(step)
        x = torch.randn(8, 5, generator=g)
        return x, x.sum(1, keepdim=True)

    def stop_at_3(state):
        state.stop = state.step == 3

    state = train(
        model,
        sample,
        mse,
        TrainConfig(max_steps=10, progress=False),
        hooks=[FunctionHook(on_step_end=stop_at_3)],
    )
    assert state.step == 3 and seen_steps == [0, 1, 2]


def test_sequential_order_and_unknown_hook_callback():
    assert batch_indices(10, 4, seed=0, step=3, shuffle=False) == [4, 5, 6, 7]
    with pytest.raises(UserError, match="hook: unknown callback"):
        FunctionHook(on_stepstart=print)
