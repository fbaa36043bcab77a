from papershelf.figures import summary_plot


def _claim(id_, ours, baseline, holds):
    return {
        "id": id_,
        "status": "ok",
        "ours": ours,
        "baseline": baseline,
        "holds": holds,
        "baseline_name": "a long baseline name " * 3,
        "metric": "a metric " * 12,
    }


def test_summary_has_one_panel_per_claim_with_a_number(tmp_path):
    entry = {
        "id": "toy",
        "claims": [
            _claim("a", 1.0, 2.0, True),
            _claim("b", 0.5, None, None),
            {**_claim("c", None, None, None)},
        ],
    }
    path = tmp_path / "summary.png"
    assert summary_plot(entry, path) is True
    import matplotlib.image

    height, width = matplotlib.image.imread(path).shape[:2]
    assert width == 640 and height == int(100 * (1.9 * 2 + 0.4))
    assert summary_plot({"id": "toy", "claims": [_claim("c", None, None, None)]}, path) is False
