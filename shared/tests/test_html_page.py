import json
import re

from papershelf.html_page import figure_paths, write_index
from papershelf.repro import reproduce


def test_index_shows_every_claim_and_every_figure_exists(toy_paper, tmp_path):
    doc = json.loads(json.dumps(reproduce([toy_paper], out=tmp_path)))
    doc["papers"][0]["claims"][0]["plots"] = ["dummy.png"]
    html = write_index(doc, tmp_path).read_text()
    for paper in doc["papers"]:
        for c in paper["claims"]:
            assert f'id="{paper["id"]}-{c["id"]}"' in html
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert set(figure_paths(doc)) <= set(sources)
    assert "toy/summary.png" in sources
    assert all((tmp_path / s).is_file() for s in sources)
    assert "<script" not in html and "http" not in html.split("<body>")[1]


def test_bench_section_appears_when_bench_results_exist(toy_paper, tmp_path):
    from papershelf.bench import BenchReport, BenchRow

    doc = reproduce([toy_paper], out=tmp_path, claims=["good"])
    assert "Benchmarks" not in (tmp_path / "index.html").read_text()
    BenchReport("toy speed", [BenchRow("ours", 0.002, 0.5, {"n": 8})], "base").save(
        tmp_path / "toy"
    )
    html = write_index(doc, tmp_path).read_text()
    assert "Benchmarks" in html and "toy speed" in html and "<td>0.5</td>" in html


def test_page_renders_in_a_headless_browser(toy_paper, tmp_path):
    """A screenshot of the page is not blank (where a headless Chromium is installed)."""
    import shutil
    import subprocess

    import pytest

    browser = next(
        (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
    )
    if browser is None:
        pytest.skip("no headless Chromium on this machine (apt install chromium to run this)")
    reproduce([toy_paper], out=tmp_path, claims=["good"])
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            f"--screenshot={shot}",
            "--window-size=1200,900",
            (tmp_path / "index.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.std() > 0.01  # not one flat colour
