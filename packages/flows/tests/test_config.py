"""``FlowConfig``: validation with one-line messages, the save/load round trip, unknown keys
refused (the hand-written ``from_dict`` used to drop them), old saved folders still load."""

from __future__ import annotations

import json

import pytest
import torch
from flows.config import FlowConfig, build_flow, load_flow, save_flow
from flows.testing import _randomize
from papershelf.errors import UserError


@pytest.mark.parametrize(
    ("make", "match"),
    [
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


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"features": 0}, r"^features: must be"),
        ({"features": 2.5}, r"^features: must be an integer >= 1, got 2.5$"),
        ({"transforms": 0}, r"^transforms: must be"),
        ({"base": "cauchy"}, r"^base: must be one of 'normal', 'student-t'; got 'cauchy'$"),
        ({"df": "per_dim"}, r"^df: must be one of 'shared', 'per-dim'"),
        ({"hidden": (64, 0)}, r"^hidden: must be positive sizes"),
        ({"arch": "nsf", "bins": 1}, r"^bins: a spline needs bins >= 2"),
        ({"arch": "gresflow", "group": "C4", "base": "student-t"}, r"^base: equivariant"),
    ],
)
def test_each_field_refused_with_one_line(changes, match):
    with pytest.raises(UserError, match=match) as info:
        FlowConfig(**{"features": 2, **changes})
    assert "\n" not in str(info.value)


def test_dict_round_trip_rebuilds_the_hidden_tuple():
    cfg = FlowConfig(features=4, arch="gresflow", group="C4", hidden=[16, 8])
    assert cfg.hidden == (16, 8)
    d = cfg.to_dict()
    assert d["hidden"] == [16, 8] and json.loads(json.dumps(d)) == d
    assert FlowConfig.from_dict(d) == cfg


def test_unknown_key_is_refused_with_the_known_fields(tmp_path):
    d = {**FlowConfig(features=2).to_dict(), "hiden": [8]}
    with pytest.raises(UserError, match=r"unknown field\(s\) hiden; known fields: features, arch"):
        FlowConfig.from_dict(d)
    cfg = FlowConfig(features=2, transforms=1, hidden=(4,))
    save_flow(tmp_path, build_flow(cfg), cfg)
    meta_path = tmp_path / "model_config.json"
    meta = json.loads(meta_path.read_text())
    meta["flow"]["layers"] = 3
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(UserError, match="unknown field"):
        load_flow(tmp_path)


def test_a_folder_saved_by_flows_0_1_still_loads(tmp_path):
    """The hand-written ``to_dict`` of flows 0.1 wrote exactly the dataclass fields."""
    cfg = FlowConfig(features=2, base="student-t", transforms=1, hidden=(4,))
    flow = build_flow(cfg)
    save_flow(tmp_path, flow, cfg)
    old = {
        "features": 2,
        "arch": "maf",
        "base": "student-t",
        "df": "shared",
        "df_init": 10.0,
        "df_min": 0.5,
        "transforms": 1,
        "hidden": [4],
        "bins": 8,
        "bound": 4.0,
        "group": None,
        "context": 0,
    }
    meta_path = tmp_path / "model_config.json"
    meta = json.loads(meta_path.read_text())
    assert meta["flow"] == old
    meta_path.write_text(json.dumps({"flow": old, "scaler": {"center": [0, 0], "scale": [1, 1]}}))
    _, loaded, meta = load_flow(tmp_path)
    assert loaded == cfg and meta["scaler"]["scale"] == [1, 1]


@pytest.mark.parametrize("arch", ["maf", "nsf", "realnvp", "resflow", "gresflow", "giaf"])
def test_save_load_roundtrip_through_config(arch, tmp_path):
    d = 4
    cfg = FlowConfig(
        features=d,
        arch=arch,
        transforms=2,
        hidden=(8,),
        group="C4" if arch.startswith("g") else None,
        base="student-t" if arch == "maf" else "normal",
    )
    torch.manual_seed(0)
    flow = build_flow(cfg)
    _randomize(flow, 0.1)
    flow.eval()
    save_flow(tmp_path, flow, cfg, {"note": 1})
    loaded, cfg2, meta = load_flow(tmp_path)
    assert cfg2 == cfg and meta["note"] == 1
    x = torch.randn(5, d)
    assert torch.equal(flow().log_prob(x), loaded().log_prob(x))
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "model_config.json").is_file()
