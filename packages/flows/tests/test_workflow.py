"""The command bodies as functions: the group fit's scaler, resume from checkpoints, sample,
logprob and tails round trip, refusals."""

from __future__ import annotations

import json

import pytest
import torch
from flows.data import read_csv, rotated_t2, write_csv
from flows.workflow import fit_csv, load_fitted, logprob_csv, sample_csv, tails_csv
from papershelf.errors import UserError


def test_fit_under_a_group_uses_one_shared_scale_and_no_shift(tmp_path):
    """A per-coordinate scaler would break the C4 symmetry of the fitted density."""
    data = tmp_path / "pts.csv"
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0)) * torch.tensor([1, 2, 3, 4])
    write_csv(data, x + 5)
    run = tmp_path / "g"
    report = fit_csv(
        data, arch="gresflow", group="C4", transforms=1, hidden=(8,), steps=2, batch=32, out=run
    )
    assert report.plot is None and report.df is None
    scaler = json.loads((run / "model_config.json").read_text())["scaler"]
    assert scaler["center"] == [0.0] * 4
    rms = float((x + 5).pow(2).mean().sqrt())
    assert scaler["scale"] == pytest.approx([rms] * 4, rel=1e-5)


def test_fit_rerun_resumes_only_with_the_same_arguments_sample_logprob_tails(tmp_path):
    data = tmp_path / "t2.csv"
    write_csv(data, rotated_t2(300, torch.Generator().manual_seed(0)), ["a", "b"])
    run = tmp_path / "run"
    opts = dict(base="student-t", transforms=1, hidden=(8,), batch=64, out=run)
    first = fit_csv(data, steps=3, **opts)
    assert first.meta["train"]["steps"] == 3 and len(first.df) == 2
    assert first.plot == run / "density.png" and first.plot.is_file()
    weights = (run / "model.safetensors").read_bytes()
    fit_csv(data, steps=3, **opts)  # same arguments: resumes the finished run, same weights
    assert (run / "model.safetensors").read_bytes() == weights
    with pytest.raises(UserError, match=r"other arguments \(steps: 3 -> 5\).*--resume"):
        fit_csv(data, steps=5, **opts)
    with pytest.raises(UserError, match=r"transforms: 1 -> 2.*cannot be resumed"):
        fit_csv(data, steps=3, **{**opts, "transforms": 2}, resume=True)
    again = fit_csv(data, steps=5, resume=True, **opts)  # continues from the step-3 checkpoint
    assert again.meta["train"]["steps"] == 5 and (run / "checkpoints").is_dir()
    fresh = fit_csv(data, steps=2, overwrite=True, **opts)
    assert fresh.meta["train"]["steps"] == 2
    flow, config, _ = load_fitted(run)
    assert config.base == "student-t" and not flow.training
    assert sample_csv(run, n=20, out=tmp_path / "s.csv") == 20
    mean, rows = logprob_csv(run, tmp_path / "s.csv", out=tmp_path / "lp.csv")
    assert rows == 20 and torch.isfinite(torch.tensor(mean))
    assert read_csv(tmp_path / "lp.csv").shape == (20, 1)
    columns = tails_csv(data, 20)
    assert len(columns) == 2 and all(alpha == pytest.approx(1 + 1 / nu) for nu, alpha in columns)


class _Killed(Exception):
    pass


@pytest.mark.parametrize("arch", ["maf", "resflow"])
def test_fit_killed_between_checkpoints_resumes_to_bitwise_identical_weights(tmp_path, arch):
    """A run killed at step 7 (checkpoints every 3 steps) and rerun with the same command
    ends with the same weights, bit for bit, as an uninterrupted run: the data order, RNG,
    optimizer and (for ResFlow) the spectral-norm buffers are restored."""
    from papershelf.train import FunctionHook

    data = tmp_path / "d.csv"  # 3-D: no density plot (sampling a ResFlow is slow)
    write_csv(data, torch.randn(200, 3, generator=torch.Generator().manual_seed(1)))
    opts = dict(arch=arch, transforms=2, hidden=(8,), steps=10, batch=32, checkpoint_every=3)
    fit_csv(data, out=tmp_path / "whole", **opts)

    def kill(state):
        if state.step == 7:
            raise _Killed

    with pytest.raises(_Killed):
        fit_csv(data, out=tmp_path / "cut", hooks=(FunctionHook(on_step_end=kill),), **opts)
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    assert (tmp_path / "cut" / "checkpoints" / "checkpoint-6").is_dir()
    fit_csv(data, out=tmp_path / "cut", **opts)
    whole = (tmp_path / "whole" / "model.safetensors").read_bytes()
    assert (tmp_path / "cut" / "model.safetensors").read_bytes() == whole


def test_fit_refuses_out_that_is_a_file_before_reading_the_data(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(UserError, match="is a file"):
        fit_csv(tmp_path / "missing.csv", out=target)


def test_refusals(tmp_path):
    with pytest.raises(UserError, match="n: must be an integer >= 1"):
        sample_csv(tmp_path, n=0)
    with pytest.raises(UserError, match=r"model: .* is not a folder"):
        load_fitted(tmp_path / "nowhere")
