import json

import pytest
from papershelf.io import atomic_write, atomic_write_json


def test_crash_mid_write_keeps_previous_file(tmp_path):
    target = tmp_path / "results.json"
    atomic_write_json(target, {"v": 1})

    def half_then_crash(tmp):
        tmp.write_text('{"v": 2, "trunc')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_crash)
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_json_writes_numpy_and_paths(tmp_path):
    import numpy as np

    atomic_write_json(
        tmp_path / "a.json", {"x": np.float32(0.5), "p": tmp_path, "arr": np.arange(2)}
    )
    assert json.loads((tmp_path / "a.json").read_text()) == {
        "x": 0.5,
        "p": str(tmp_path),
        "arr": [0, 1],
    }
