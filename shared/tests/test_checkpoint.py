import pytest
import torch
from papershelf import checkpoint
from papershelf.checkpoint import (
    load_config,
    load_tensors,
    load_weights,
    save_tensors,
    save_weights,
)
from papershelf.errors import UserError


def test_round_trip_with_config(tmp_path):
    state = {"w": torch.randn(3, 4), "b": torch.arange(3)}
    save_weights(tmp_path, state, {"rank": 4})
    loaded, config = load_weights(tmp_path, expected_keys=["w", "b"])
    assert config == {"rank": 4}
    assert torch.equal(loaded["w"], state["w"]) and torch.equal(loaded["b"], state["b"])


def test_shared_storage_tensors_are_saved(tmp_path):
    w = torch.randn(4, 4)
    save_weights(tmp_path, {"a": w, "b": w.T})
    loaded, _ = load_weights(tmp_path)
    assert torch.equal(loaded["b"], w.T)


def test_crash_mid_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    save_weights(tmp_path, {"w": torch.ones(2)})
    import safetensors.torch

    def crash(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"\x00\x01partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors.torch, "save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        save_weights(tmp_path, {"w": torch.zeros(2)})
    monkeypatch.undo()
    loaded, _ = load_weights(tmp_path)
    assert torch.equal(loaded["w"], torch.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_bad_checkpoints_give_one_line_errors(tmp_path):
    with pytest.raises(UserError, match=r"no model\.safetensors"):
        load_weights(tmp_path)
    checkpoint.weights_path(tmp_path).write_bytes(b"not safetensors")
    with pytest.raises(UserError, match="not a valid safetensors"):
        load_weights(tmp_path)
    save_weights(tmp_path, {"w": torch.ones(1)})
    checkpoint.config_path(tmp_path).write_text("{oops")
    with pytest.raises(UserError, match="not valid JSON"):
        load_weights(tmp_path)
    checkpoint.config_path(tmp_path).unlink()
    with pytest.raises(UserError, match=r"missing \['v'\], unexpected \['w'\]"):
        load_weights(tmp_path, expected_keys=["v"])


def test_save_tensors_writes_pt_metadata_and_loads_back(tmp_path):
    from safetensors import safe_open

    path = save_tensors(tmp_path / "sub" / "t.safetensors", {"x": torch.arange(6.0).view(2, 3).T})
    with safe_open(str(path), "pt") as handle:
        assert handle.metadata() == {"format": "pt"}
    assert torch.equal(load_tensors(path)["x"], torch.arange(6.0).view(2, 3).T)
    with pytest.raises(UserError, match=r"^adapter dir: no missing\.safetensors in "):
        load_tensors(tmp_path / "missing.safetensors", "adapter dir")


def test_config_loads_without_the_weights(tmp_path):
    assert load_config(tmp_path) is None
    save_weights(tmp_path, {"w": torch.ones(1)}, {"width": 3})
    checkpoint.weights_path(tmp_path).unlink()
    assert load_config(tmp_path) == {"width": 3}
