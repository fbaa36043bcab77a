import numpy as np
import pytest
import torch
from dyngraph_survey_models.data import EventStream, read_events, write_csv, write_dyglib
from papershelf.errors import UserError


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
        read_events(p)


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
