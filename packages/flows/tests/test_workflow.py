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


def test_fit_resumes_sample_logprob_and_tails_round_trip(tmp_path):
    data = tmp_path / "t2.csv"
    write_csv(data, rotated_t2(300, torch.Generator().manual_seed(0)), ["a", "b"])
    run = tmp_path / "run"
    opts = dict(base="student-t", transforms=1, hidden=(8,), batch=64, out=run)
    first = fit_csv(data, steps=3, **opts)
    assert first.meta["train"]["steps"] == 3 and len(first.df) == 2
    assert first.plot == run / "density.png" and first.plot.is_file()
    again = fit_csv(data, steps=5, **opts)  # continues from the step-3 checkpoint
    assert again.meta["train"]["steps"] == 5 and (run / "checkpoints").is_dir()
    flow, config, _ = load_fitted(run)
    assert config.base == "student-t" and not flow.training
    assert sample_csv(run, n=20, out=tmp_path / "s.csv") == 20
    mean, rows = logprob_csv(run, tmp_path / "s.csv", out=tmp_path / "lp.csv")
    assert rows == 20 and torch.isfinite(torch.tensor(mean))
    assert read_csv(tmp_path / "lp.csv").shape == (20, 1)
    columns = tails_csv(data, 20)
    assert len(columns) == 2 and all(alpha == pytest.approx(1 + 1 / nu) for nu, alpha in columns)


def test_refusals(tmp_path):
    with pytest.raises(UserError, match="n: must be >= 1"):
        sample_csv(tmp_path, n=0)
    with pytest.raises(UserError, match=r"model: .* is not a folder"):
        load_fitted(tmp_path / "nowhere")
