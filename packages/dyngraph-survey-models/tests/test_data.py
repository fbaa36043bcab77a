import json

import numpy as np
import pytest
import torch
from dyngraph_survey_models.cli import app
from dyngraph_survey_models.data import (
    EventStream,
    read_events,
    read_temporal_data,
    write_csv,
    write_dyglib,
)
from papershelf.errors import UserError
from torch_geometric.data import TemporalData
from typer.testing import CliRunner


def _write(tmp_path, text, name="ev.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_round_trip(tmp_path, small_stream):
    s = small_stream
    s.msg = torch.randn(len(s), 3)
    p = write_csv(s, tmp_path / "e.csv")
    r = read_events(p, bipartite=True)
    assert torch.equal(r.src, s.src) and torch.equal(r.dst, s.dst)
    assert torch.equal(r.t, s.t) and torch.allclose(r.msg, s.msg)


def test_dyglib_round_trip(tmp_path, small_stream):
    s = small_stream
    s.msg = torch.randn(len(s), 4)
    p = write_dyglib(s, tmp_path, "toy")
    lines = p.read_text().splitlines()
    assert lines[0] == ",u,i,ts,label,idx"
    first = lines[1].split(",")
    assert int(first[1]) == int(s.src[0]) + 1 and int(first[5]) == 1  # 1-based ids and idx
    feats = np.load(tmp_path / "ml_toy.npy")
    assert feats.shape == (len(s) + 1, 4) and not feats[0].any()  # padding row 0
    r = read_events(p)
    assert r.bipartite
    assert torch.equal(r.src, s.src) and torch.equal(r.dst, s.dst) and torch.equal(r.t, s.t)
    assert torch.allclose(r.msg, s.msg)
    p2 = write_dyglib(r, tmp_path / "again", "toy")
    assert p2.read_text() == p.read_text()


def test_jodie_format_offsets_items(tmp_path):
    p = _write(
        tmp_path,
        "user,item,timestamp,state_label,f1\n0,0,1.0,0,0.5\n1,0,2.0,0,0.1\n0,1,3.0,1,0.2\n",
    )
    s = read_events(p)
    assert s.bipartite and s.num_src_nodes == 2
    assert s.dst.tolist() == [2, 2, 3] and s.msg.shape == (3, 1)


def test_pyg_round_trip(small_stream):
    d = small_stream.to_pyg()
    back = EventStream.from_pyg(d, num_nodes=small_stream.num_nodes)
    assert torch.equal(back.src, small_stream.src) and torch.equal(back.t, small_stream.t)


def test_out_of_order_names_line(tmp_path):
    p = _write(tmp_path, "src,dst,t\n0,1,1.0\n1,2,3.0\n2,0,2.0\n")
    with pytest.raises(UserError, match=r"ev.csv:4: events out of time order"):
        read_events(p)
    s = read_events(p, sort=True)
    assert s.t.tolist() == [1.0, 2.0, 3.0] and s.src.tolist() == [0, 2, 1]


def test_missing_columns(tmp_path):
    p = _write(tmp_path, "source,dst,time\n0,1,1.0\n")
    with pytest.raises(UserError, match=r"missing column.*src.*t"):
        read_events(p, "csv")
    assert read_events(p).meta["format"] == "tgb"  # auto: named TGB-style columns
    with pytest.raises(UserError, match=r"missing the source column"):
        read_events(_write(tmp_path, "a,b,c\n0,1,1\n", "abc.csv"))


def test_node_id_errors(tmp_path):
    with pytest.raises(UserError, match=r":2: src must be an integer"):
        read_events(_write(tmp_path, "src,dst,t\n0.5,1,1.0\n"))
    with pytest.raises(UserError, match=r"num_nodes=2"):
        read_events(_write(tmp_path, "src,dst,t\n0,1,1.0\n0,5,2.0\n", "b.csv"), num_nodes=2)
    with pytest.raises(UserError, match=r"must be >= 0"):
        read_events(_write(tmp_path, "src,dst,t\n-1,1,1.0\n", "c.csv"))


def test_bad_times_and_widths(tmp_path):
    with pytest.raises(UserError, match=r":2: t must be >= 0"):
        read_events(_write(tmp_path, "src,dst,t\n0,1,-1\n"))
    with pytest.raises(UserError, match="finite"):
        read_events(_write(tmp_path, "src,dst,t\n0,1,nan\n", "n.csv"))
    with pytest.raises(UserError, match=r":3: expected 4 fields"):
        read_events(_write(tmp_path, "src,dst,t,f\n0,1,1,0.5\n0,1,2\n", "w.csv"))


def test_stream_validation():
    with pytest.raises(UserError, match="out of time order at event 1"):
        EventStream([0, 1], [1, 0], [2.0, 1.0])
    with pytest.raises(UserError, match="num_nodes=2"):
        EventStream([0, 1], [1, 2], [1.0, 2.0], num_nodes=2)


def test_errors_name_the_file_line(tmp_path):
    # a blank line still counts as a line, and sorting keeps each event's own line number
    p = _write(tmp_path, "src,dst,t\n0,1,1.0\n\n1,2,3.0\n2,0,2.0\n")
    with pytest.raises(UserError, match=r"ev.csv:5: events out of time order"):
        read_events(p)
    p = _write(tmp_path, "src,dst,t\n0,1,3.0\n1,5,1.0\n", "s.csv")
    with pytest.raises(UserError, match=r"s.csv:3: node id must be < num_nodes=2, got 5"):
        read_events(p, sort=True, num_nodes=2)
    p = _write(tmp_path, ",u,i,ts,label,idx\n0,1,3,2.0,0,1\n\n1,2,3,1.0,0,2\n", "ml_x.csv")
    with pytest.raises(UserError, match=r"ml_x.csv:4: events out of time order"):
        read_events(p)


T0 = 1_700_000_000


def _jodie(path, n=60):
    g = np.random.default_rng(0)
    lines = ["user_id,item_id,timestamp,state_label,comma_separated_list_of_features"]
    for k in range(n):
        u, i = int(g.integers(0, 5)), int(g.integers(0, 6))
        lines.append(f"{u},{i},{T0 + k}.0,0,{g.normal():.3f},{g.normal():.3f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _tgb(path, n=60):
    g = np.random.default_rng(1)
    lines = ["ts,src,dst,w"]
    for k in range(n):
        lines.append(f"{T0 + k},user{int(g.integers(0, 5))},item{int(g.integers(0, 6))},1.0")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jodie_csv_to_temporal_data(tmp_path):
    p = _jodie(tmp_path / "wikipedia.csv")
    data = read_temporal_data(p, "jodie")
    assert isinstance(data, TemporalData)
    rows = [r.split(",") for r in p.read_text().splitlines()[1:]]
    users = torch.tensor([int(r[0]) for r in rows])
    assert torch.equal(data.src, users)
    assert torch.equal(data.dst, torch.tensor([int(r[1]) for r in rows]) + int(users.max()) + 1)
    assert data.t.dtype == torch.float64 and torch.equal(
        data.t - T0, torch.arange(60.0, dtype=torch.float64)
    )
    assert data.msg.shape == (60, 2)


def test_dyglib_files_to_temporal_data(tmp_path):
    s = read_events(_jodie(tmp_path / "w.csv"), "jodie")
    csv = write_dyglib(s, tmp_path, "wiki")
    assert np.load(tmp_path / "ml_wiki.npy")[0].tolist() == [0.0, 0.0]  # padding row
    data = read_temporal_data(csv, "dyglib")
    assert torch.equal(data.src, s.src) and torch.equal(data.dst, s.dst)
    assert torch.equal(data.t, s.t) and torch.equal(data.msg, s.msg)


def test_tgb_edge_list_relabels_in_order_of_appearance(tmp_path):
    p = tmp_path / "tgbl.csv"
    p.write_text("source,destination,timestamp\nb,a,1\nc,b,2\na,d,3\n")
    s = read_events(p, "tgb")
    assert s.meta["node_ids"] == ["b", "a", "c", "d"]
    assert s.src.tolist() == [0, 2, 1] and s.dst.tolist() == [1, 0, 3]
    bip = read_events(_tgb(tmp_path / "r.csv"), "tgb", bipartite=True)
    assert bip.bipartite and int(bip.src.max()) < int(bip.dst.min())
    assert all(n.startswith("user") for n in bip.meta["node_ids"][: bip.num_src_nodes])
    assert read_events(tmp_path / "r.csv").meta["format"] == "tgb"  # auto-detected
    assert bip.msg_dim == 1  # the weight column


def test_tgb_bad_rows_name_the_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("ts,src,dst\n1,a,b\n2,a\n")
    with pytest.raises(UserError, match=r"bad.csv:3: expected 3 fields"):
        read_events(p, "tgb")


@pytest.mark.parametrize("fmt", ["jodie", "dyglib", "tgb"])
def test_cli_train_evaluate_each_format(tmp_path, fmt):
    if fmt == "jodie":
        data = _jodie(tmp_path / "w.csv")
    elif fmt == "tgb":
        data = _tgb(tmp_path / "r.csv")
    else:
        data = write_dyglib(read_events(_jodie(tmp_path / "w.csv"), "jodie"), tmp_path, "w")
    r = CliRunner()
    ck = tmp_path / "ck"
    res = r.invoke(
        app,
        [
            "train",
            "--data",
            str(data),
            "--format",
            fmt,
            "--model",
            "tgat",
            "--epochs",
            "1",
            "--batch-size",
            "10",
            "--out",
            str(ck),
            "--protocol",
            "transductive-only",
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads((ck / "model_config.json").read_text())["format"] == fmt
    res = r.invoke(app, ["evaluate", "--checkpoint", str(ck), "--data", str(data), "--k", "2"])
    assert res.exit_code == 0, res.output
    assert 0 <= json.loads(res.output)["ap"] <= 1


def test_every_registered_model_is_reachable_from_the_cli(tmp_path):
    from dyngraph_survey_models.registry import CT_MODELS

    data = _jodie(tmp_path / "w.csv")
    r = CliRunner()
    for name in CT_MODELS:
        res = r.invoke(
            app,
            [
                "train",
                "--data",
                str(data),
                "--model",
                name,
                "--epochs",
                "1",
                "--batch-size",
                "20",
                "--out",
                str(tmp_path / name),
                "--protocol",
                "transductive-only",
            ],
        )
        assert res.exit_code == 0, (name, res.output)
