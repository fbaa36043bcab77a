"""Data files are read with line numbers (bad cells named); robust scaler; toy densities."""

from __future__ import annotations

import pytest
import torch
from flows.data import RobustScaler, checkerboard, read_csv, write_csv
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


def test_robust_scaler_and_checkerboard():
    x = checkerboard(1000, torch.Generator().manual_seed(0))
    sc = RobustScaler.fit(x)
    torch.testing.assert_close(sc.inverse(sc.transform(x)), x)
    assert x.abs().max() <= 4
