"""Bench pieces run and report ratios against the right baseline."""

from __future__ import annotations

from resonance_rope.bench import freq_rows


def test_freq_rows():
    rows = freq_rows(repeats=1)
    by_name = {r.name: r for r in rows}
    assert by_name["inv_freq default"].ratio == 1.0
    assert {"inv_freq resonance_yarn", "inv_freq yarn"} <= set(by_name)
