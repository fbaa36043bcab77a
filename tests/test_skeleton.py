"""The skeleton checks (``tests/skeleton.py``; docs/design.md, section 3) catch what they
should and nothing else.

``fixtures/broken_package`` breaks each rule once: every rule below must report its file.
``fixtures/good_package`` follows every rule and must pass clean. The fixture trees are
data: not workspace members, not collected (``tests/conftest.py``), their repository root
is ``fixtures/``. These tests check the checker, not a member, so they run once, in the
contract session (the ``whole_shelf`` marker), and a member's session skips them.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import pytest
import skeleton

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOOD, BROKEN = FIXTURES / "good_package", FIXTURES / "broken_package"
SRC = "broken_package/src/broken_package"

pytestmark = [
    pytest.mark.whole_shelf,
    pytest.mark.skipif(
        bool(os.environ.get("PAPERSHELF_CONTRACT_MEMBER")),
        reason="checks the checker; runs in the contract session",
    ),
]


def reported(found: list[str], rule: str) -> set[str]:
    """The files (without line numbers) that ``rule`` reported."""
    files = set()
    for violation in found:
        where, name, _ = violation.split(": ", 2)
        if name == rule:
            files.add(where.split(":")[0])
    return files


@pytest.fixture(scope="module")
def broken() -> list[str]:
    return skeleton.violations(BROKEN, root=FIXTURES)


# The rule and the one file of the broken fixture that breaks it.
BROKEN_RULES = {
    "required-file": f"{SRC}/workflow.py",
    "claims-file": f"{SRC}/claims.py",
    "banned-name": f"{SRC}/experiments.py",
    "claim-run": f"{SRC}/paper.py",
    "claim-module": f"{SRC}/claims/memory_saving.py",
    "claims-extra": f"{SRC}/claims/common.py",
    "relative-import": f"{SRC}/__init__.py",
    "optimizer-step": f"{SRC}/experiments.py",
    "thread-setting": f"{SRC}/bench.py",
    "config-outside": f"{SRC}/model.py",
    "config-missing": f"{SRC}/config.py",
    "config-base": f"{SRC}/config.py",
    "naive-name": f"{SRC}/naive.py",
    "naive-op": f"{SRC}/naive.py",
    "naive-signature": f"{SRC}/naive.py",
    "test-mirror": "broken_package/tests/test_helpers.py",
    "readme-link": "broken_package/README.md",
    "design-link": "broken_package/README.md",
}


@pytest.mark.parametrize("rule", list(BROKEN_RULES))
def test_broken_fixture_reports_each_rule(broken, rule):
    assert reported(broken, rule) == {BROKEN_RULES[rule]}, "\n".join(broken)


def test_broken_fixture_reports_nothing_else(broken):
    assert {v.split(": ", 2)[1] for v in broken} == set(BROKEN_RULES)


def test_every_rule_is_known_and_tested():
    # The rules not in the broken fixture are covered by the focused tests below.
    assert set(skeleton.RULES) == {*BROKEN_RULES, "src-layout", "syntax-error", "design-doc"}


def test_good_fixture_passes():
    assert skeleton.violations(GOOD, root=FIXTURES) == []


def test_claim_run_names_the_expected_target(broken):
    (message,) = [v for v in broken if ": claim-run: " in v]
    assert "'speed-up'" in message and "'broken_package.claims.speed_up:run'" in message


def test_naive_signature_names_both_signatures(broken):
    (message,) = [v for v in broken if ": naive-signature: " in v]
    assert "naive_matmul(a, b)" in message and "matmul(x, y)" in message


def test_readme_links_leaving_the_root_and_to_nothing_are_both_reported(broken):
    messages = [v for v in broken if ": readme-link: " in v]
    assert len(messages) == 2
    assert any("'../../README.md' leaves the repository" in m for m in messages)
    assert any("'docs/missing.md' does not exist" in m for m in messages)


@pytest.fixture
def good_copy(tmp_path) -> Path:
    """A copy of the good fixture under ``tmp_path`` (its root), with the design document."""
    shutil.copytree(GOOD, tmp_path / "good_package")
    shutil.copytree(FIXTURES / "docs", tmp_path / "docs")
    return tmp_path / "good_package"


def test_syntax_error_is_reported_not_raised(good_copy):
    (good_copy / "src/good_package/functional.py").write_text("def scale(x:\n")
    found = skeleton.violations(good_copy, root=good_copy.parent)
    assert reported(found, "syntax-error") == {"good_package/src/good_package/functional.py"}


def test_missing_src_folder_is_one_violation(good_copy):
    shutil.rmtree(good_copy / "src")
    assert skeleton.violations(good_copy, root=good_copy.parent) == [
        "good_package: src-layout: no src/good_package/ folder"
    ]


def test_claim_module_without_run_is_reported(good_copy):
    (good_copy / "src/good_package/claims/scale_up.py").write_text("def main(ctx):\n    pass\n")
    found = skeleton.violations(good_copy, root=good_copy.parent)
    assert found == [
        "good_package/src/good_package/claims/scale_up.py: claim-module: "
        "defines no run(ctx) -> Result"
    ]


def test_config_subclass_through_a_reexport_counts_as_config(good_copy):
    (good_copy / "src/good_package/layer.py").write_text(
        "from dataclasses import dataclass\n\nfrom good_package import GoodConfig\n\n\n"
        "@dataclass\nclass LayerConfig(GoodConfig):\n    depth: int = 1\n"
    )
    found = skeleton.violations(good_copy, root=good_copy.parent)
    assert reported(found, "config-outside") == {"good_package/src/good_package/layer.py"}


def test_root_checks(tmp_path):
    (tmp_path / "README.md").write_text("[design](docs/design.md) [up](../elsewhere.md)\n")
    assert skeleton.root_violations(tmp_path) == [
        "docs/design.md: design-doc: missing",
        "README.md:1: readme-link: 'docs/design.md' does not exist",
        "README.md:1: readme-link: '../elsewhere.md' leaves the repository",
    ]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/design.md").write_text("# design\n")
    (tmp_path / "README.md").write_text("[design](docs/design.md#3-the-package-skeleton)\n")
    assert skeleton.root_violations(tmp_path) == []


def test_links_in_code_and_urls_are_not_paths(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "[uv](https://docs.astral.sh/uv/) [top](#top) `[x](../../code.md)`\n"
        "```\n[y](../../fenced.md)\n```\n[abs](/etc/passwd)\n"
    )
    found = skeleton.link_violations(readme, tmp_path, lambda p: p.name)
    assert found == [
        "README.md:5: readme-link: '/etc/passwd' is an absolute path; link relative to the file"
    ]


def test_shared_step_only_in_train(tmp_path):
    src = tmp_path / "shared/src/papershelf"
    src.mkdir(parents=True)
    (src / "train.py").write_text("def loop(opt):\n    opt.step()\n")
    (src / "bench.py").write_text("from .io import x\n\n\ndef f(opt):\n    opt.step()\n")
    assert skeleton.shared_violations(tmp_path / "shared") == [
        "shared/src/papershelf/bench.py:1: relative-import: 'from .io import ...'; import by the full name",
        "shared/src/papershelf/bench.py:5: optimizer-step: 'opt.step()' call; loops go through papershelf.train",
    ]


def test_fixtures_are_not_members():
    """Neither the uv workspace nor nox nor the contract tests see the fixture trees."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = [
        p for glob in pyproject["tool"]["uv"]["workspace"]["members"] for p in ROOT.glob(glob)
    ]
    assert members and all(not p.is_relative_to(FIXTURES) for p in members)
    assert not list(FIXTURES.rglob("pyproject.toml"))
