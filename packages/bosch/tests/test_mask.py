"""HeadMask: ratio, turnover, KV entries, JSON round trip and shape checks."""

import pytest
from bosch.mask import HeadMask, exact_count, kv_saving
from papershelf.errors import UserError


def test_views_and_turnover():
    a = HeadMask([[1, 0], [0, 0]])
    b = HeadMask([[1, 1], [0, 0]])
    c = HeadMask([[0, 1], [1, 0]])
    assert a.ratio == 0.25 and b.per_layer_counts() == [2, 0]
    assert a.turnover(b) == 0.0  # nested
    assert a.turnover(c) == 1.0
    assert b.turnover(c) == 0.5


def test_kv_entries_and_saving_formula():
    mask = HeadMask([[1, 1, 0, 0]] * 2)
    T, W = 100, 10
    assert mask.kv_entries(T, W) == 4 * W + 4 * T
    full = HeadMask.zeros(2, 4).kv_entries(T, W)
    assert 1 - mask.kv_entries(T, W) / full == pytest.approx(kv_saving(0.5, W, T))
    assert kv_saving(0.5, 1024, 32768) == pytest.approx(0.484375)
    assert kv_saving(0.875, 1024, 32768) == pytest.approx(0.84765625)


def test_exact_count_rounds_half_up():
    assert exact_count(0.5, 1) == 1 and exact_count(0.875, 8) == 7 and exact_count(0.25, 2) == 1


def test_json_round_trip_and_errors(tmp_path):
    mask = HeadMask([[1, 0], [0, 1], [1, 1]])
    path = mask.to_json(tmp_path / "m.json", window=4)
    assert HeadMask.from_json(path) == mask
    with pytest.raises(UserError, match="shape must be"):
        mask.check_shape(4, 2)
    (tmp_path / "bad.json").write_text('{"swa": [[1, 2]]}')
    with pytest.raises(UserError, match="0/1"):
        HeadMask.from_json(tmp_path / "bad.json")
    with pytest.raises(UserError, match="does not exist"):
        HeadMask.from_json(tmp_path / "none.json")
    with pytest.raises(UserError, match="rectangular"):
        HeadMask([[1, 0], [1]])
