from regla import bench


def test_bench_rows_and_ratios(monkeypatch):
    monkeypatch.setattr(bench, "QUICK_LENGTHS", (64,))
    report = bench.run(quick=True)
    names = {r.name for r in report.rows}
    assert {"sdpa fwd", "chunk fwd", "recurrent fwd", "parallel fwd", "chunk fwd+bwd"} <= names
    assert all(r.ratio > 0 for r in report.rows)
    assert any("chunk fwd+bwd / recurrent" in n for n in report.notes)
