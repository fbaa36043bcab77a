"""Workflow functions behind the CLI."""

import json

import pytest
from continuation_kd.config import ContinuationKDConfig
from continuation_kd.workflow import schedule_rows, schedule_text


def test_schedule_rows_margin_is_m_times_factor():
    rows = schedule_rows(ContinuationKDConfig(t_max=4, n_epochs=8, psi="eq8", margin=2.0))
    assert [r["T"] for r in rows] == [4, 4, 3, 3, 2, 2, 1, 1]
    assert rows[0]["margin"] == pytest.approx(2.0 * 0.25) and rows[-1]["margin"] == 2.0
    text = schedule_text(ContinuationKDConfig(t_max=4, n_epochs=8), as_json=True)
    assert json.loads(text.splitlines()[-1])["phi"] == 1.0
    assert schedule_text(ContinuationKDConfig(t_max=4, n_epochs=8)).splitlines()[0].split() == [
        "epoch",
        "T",
        "phi",
        "psi",
        "margin",
    ]
