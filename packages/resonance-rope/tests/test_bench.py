"""Bench pieces run and report ratios against the right baseline."""

from __future__ import annotations

from resonance_rope.bench import freq_rows, train_step_rows


def test_freq_rows():
    rows = freq_rows(repeats=1)
    by_name = {r.name: r for r in rows}
    assert by_name["inv_freq default"].ratio == 1.0
    assert {"inv_freq resonance_yarn", "inv_freq yarn"} <= set(by_name)


def test_train_step_rows_time_papershelf_training_step():
    rows = train_step_rows(repeats=1)
    assert [r.name for r in rows] == ["posgen train step default", "posgen train step resonance"]
    assert rows[0].ratio == 1.0 and rows[1].ratio > 0
