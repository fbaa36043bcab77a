import json

import pytest
from papershelf.errors import UserError
from papershelf.report import (
    END,
    START,
    load_results,
    print_table,
    readme_table,
    to_markdown,
    update_readme,
)
from papershelf.repro import reproduce


@pytest.fixture
def doc(toy_paper, tmp_path):
    return json.loads(json.dumps(reproduce([toy_paper], out=tmp_path / "run")))


def test_results_page_links_every_figure(doc):
    doc["papers"][0]["claims"][0]["plots"] = ["dummy.png"]
    md = to_markdown(doc)
    assert "[toy / good: dummy.png](toy/good/dummy.png)" in md


def test_readme_block_is_rewritten_and_checked(doc, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# toy\n\nbefore\n\n{START}\nold table\n{END}\n\nafter\n")
    assert update_readme(readme, doc, "toy", check=True) is False
    assert "old table" in readme.read_text()  # --check changes nothing
    assert update_readme(readme, doc, "toy") is False
    text = readme.read_text()
    assert text.startswith("# toy\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert "| good | accuracy | 0.9 | 0.5 (chance) | 0.9 (Table 1) | yes |" in text
    assert update_readme(readme, doc, "toy", check=True) is True
    root = readme_table(doc)
    assert "| toy | good | accuracy | 0.9 | 0.5 (chance) | yes |" in root


def test_readme_without_markers_or_unknown_paper_is_one_line(doc, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no block here\n")
    with pytest.raises(UserError, match="no results block"):
        update_readme(readme, doc)
    with pytest.raises(UserError, match=r"^paper: 'nope' is not in the results"):
        readme_table(doc, "nope")
    with pytest.raises(UserError, match="does not exist"):
        load_results(tmp_path / "missing.json")


def test_table_is_markdown_when_not_a_terminal(doc):
    import io

    from rich.console import Console

    stream = io.StringIO()
    print_table(doc, Console(file=stream, width=80, force_terminal=False))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("| paper | claim |")
    assert len(lines) == 2 + 3  # header, rule, one line per claim: nothing wrapped
