"""Bad input gets one clear line; data files are read with line numbers; tail tools."""

from __future__ import annotations

import flows
import pytest
import torch
from flows.config import FlowConfig
from flows.data import RobustScaler, checkerboard, read_csv, write_csv
from flows.tails import hill, t2_tail_sample
from papershelf.errors import UserError


def test_csv_errors_name_the_line(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b\n1,2\n3,nan\n")
    with pytest.raises(UserError, match=r"d.csv:3: column 2 is nan"):
        read_csv(p)
    p.write_text("1,2\n3,4,5\n")
    with pytest.raises(UserError, match=r"d.csv:2: expected 2 columns, got 3"):
        read_csv(p)
    p.write_text("1,2\n3,x\n")
    with pytest.raises(UserError, match=r"d.csv:2: non-numeric value 'x'"):
        read_csv(p)
    with pytest.raises(UserError, match="does not exist"):
        read_csv(tmp_path / "missing.csv")
    write_csv(p, torch.tensor([[1.0, 2.0], [3.0, 4.0]]), ["a", "b"])
    assert read_csv(p).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(UserError, match="expected 3 columns"):
        read_csv(p, features=3)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: flows.MAF(0), "features"),
        (lambda: flows.MAF(2, transforms=0), "transforms"),
        (lambda: flows.NSF(2, bins=1), "bins: a spline needs bins >= 2"),
        (lambda: flows.NSF(2, bound=0.0), "bound"),
        (lambda: flows.ResFlow(2, coeff=1.2), "coeff"),
        (lambda: flows.ResFlow(2, logdet="roulette", n_exact_terms=-1), "n_exact_terms"),
        (lambda: flows.ResFlow(2, logdet="roulette", p=1.0), "roulette probability"),
        (lambda: flows.ResFlow(2, logdet="magic"), "logdet"),
        (lambda: flows.RealNVP(2, scale="huge"), "scale"),
        (lambda: flows.transforms.AffineCoupling(1), "coupling layers need features >= 2"),
        (lambda: FlowConfig(features=2, arch="glow"), "arch"),
        (lambda: FlowConfig(features=2, arch="gresflow"), "needs --group"),
        (lambda: FlowConfig(features=3, arch="gresflow", group="C4"), "features must be even"),
        (lambda: FlowConfig(features=2, arch="maf", group="C4"), "only gresflow"),
        (lambda: FlowConfig(features=2, arch="gresflow", group="Q7"), "group: must look like"),
    ],
)
def test_bad_parameters_refused(make, match):
    with pytest.raises(UserError, match=match):
        make()


def test_dimension_mismatch_refused():
    with pytest.raises(UserError, match=r"expects \(\.\.\., 3\) inputs, got shape \(4, 2\)"):
        flows.transforms.Affine(3)()(torch.randn(4, 2))
    with pytest.raises(UserError, match="data: expected"):
        flows.fit(flows.MAF(3), torch.randn(10, 2), steps=1)


def test_hill_bounds_and_tail_sampler():
    x = torch.randn(100)
    with pytest.raises(UserError, match="10 <= k < n"):
        hill(x, 5)
    with pytest.raises(UserError, match="10 <= k < n"):
        hill(x, 100)
    s = t2_tail_sample(10000, 30.0, torch.Generator().manual_seed(0))
    assert (s > 30).all()
    # P(X > 60 | X > 30) for t_2 = S(60)/S(30)
    surv = lambda v: 0.5 * (1 - v / (v * v + 2) ** 0.5)  # noqa: E731
    assert abs(float((s > 60).double().mean()) - surv(60) / surv(30)) < 0.02


def test_robust_scaler_and_checkerboard():
    x = checkerboard(1000, torch.Generator().manual_seed(0))
    sc = RobustScaler.fit(x)
    torch.testing.assert_close(sc.inverse(sc.transform(x)), x)
    assert x.abs().max() <= 4


def test_non_finite_loss_stops_with_step(monkeypatch):
    flow = flows.MAF(2, transforms=1, hidden=(4,))
    data = torch.full((16, 2), float("nan"))
    with pytest.raises(UserError, match="at step 1; try a lower --lr"):
        flows.fit(flow, data, steps=3, batch_size=8)
