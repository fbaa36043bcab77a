import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from papershelf.errors import UserError
from papershelf.train import TrainConfig, TrainingDiverged, batch_indices, fit, latest_checkpoint

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
    config = dict(max_steps=12, batch_size=16, lr=1e-2, checkpoint_every=4, progress=False)
    fit(model, data, mse, TrainConfig(**config, out_dir=tmp_path / "straight"))

    def crash_at_step_7(step):
        if step == 7:
            raise KeyboardInterrupt

    model_a, _ = regression_problem()
    with pytest.raises(KeyboardInterrupt):
        fit(
            model_a,
            data,
            mse,
            TrainConfig(**config, out_dir=tmp_path / "resumed"),
            on_step_start=crash_at_step_7,
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
