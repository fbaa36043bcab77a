"""The contract every paper package obeys (docs/design.md, sections 3, 6 and 7).

For each member under packages/: it installs alone (an env with only it and what it
declares, from the lock), its console script answers ``--help`` quickly, it registers
exactly one ``Paper`` through the ``papershelf.papers`` entry point, its cheapest
claim's quick reproduction writes a valid ``results.json``, and its tree follows the
package skeleton (``skeleton.violations``: static, no import, milliseconds). The shared
package gets the same treatment without the paper parts, and the whole shelf is checked
together: docs/design.md exists and no README links outside the repository.

Run directly, each member is installed alone into a fresh env. Inside a member's nox
session (``PAPERSHELF_CONTRACT_MEMBER=<name>``) the session's own env, made by
``uv sync --locked --package <name> --group test``, is used instead, so each env is
built once. The contract session (``-k "papershelf or whole_shelf"``) runs the tests
named for the shared package or the whole shelf; each member's skeleton check runs in
that member's session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import skeleton

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p for p in (ROOT / "packages").glob("*") if (p / "pyproject.toml").is_file())
MEMBER = os.environ.get("PAPERSHELF_CONTRACT_MEMBER")
if MEMBER:
    PACKAGES = [
        p
        for p in PACKAGES
        if tomllib.loads((p / "pyproject.toml").read_text())["project"]["name"] == MEMBER
    ]
whole_shelf = pytest.mark.skipif(
    bool(MEMBER), reason="checks the whole shelf; runs in the contract session"
)
HELP_BUDGET_S = 2.0
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
ENV.pop("VIRTUAL_ENV", None)


def pyproject(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


def install_alone(name: str, env_dir: Path) -> Path:
    """``uv sync --locked --package <name>`` into a fresh env; returns its bin folder."""
    subprocess.run(
        ["uv", "sync", "--locked", "--package", name, "--no-default-groups", "--quiet"],
        cwd=ROOT,
        check=True,
        env={**ENV, "UV_PROJECT_ENVIRONMENT": str(env_dir)},
        timeout=900,
    )
    return env_dir / "bin"


def run(bin_dir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    exe = args[0] if args[0].startswith("/") else str(bin_dir / args[0])
    return subprocess.run(
        [exe, *args[1:]], capture_output=True, text=True, env=ENV, timeout=timeout
    )


def help_time(bin_dir: Path, script: str) -> float:
    """The best of three wall times of ``<script> --help`` (a busy machine does not decide)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        done = run(bin_dir, script, "--help")
        times.append(time.perf_counter() - start)
        assert done.returncode == 0, done.stderr
        assert "reproduce" in done.stdout or script == "papershelf"
    return min(times)


@pytest.fixture(scope="module")
def shared_env(tmp_path_factory) -> Path:
    return install_alone("papershelf", tmp_path_factory.mktemp("env-papershelf"))


@whole_shelf
def test_papershelf_installs_alone_and_answers_quickly(shared_env):
    assert help_time(shared_env, "papershelf") < 1.0
    listing = run(shared_env, "papershelf", "list")
    assert listing.returncode == 0 and "no paper package is installed" in listing.stdout
    none = run(shared_env, "papershelf", "reproduce", "--quick")
    assert none.returncode == 2 and none.stderr.startswith("error: no paper package is installed")


@pytest.fixture(
    scope="module", params=PACKAGES or [None], ids=[p.name for p in PACKAGES] or ["no-packages"]
)
def package_env(request, tmp_path_factory) -> tuple[dict, Path]:
    if request.param is None:
        pytest.skip("no paper packages under packages/ yet")
    meta = pyproject(request.param)
    if MEMBER:
        return meta, Path(sys.executable).parent
    return meta, install_alone(meta["name"], tmp_path_factory.mktemp(f"env-{meta['name']}"))


def test_console_script_answers_help_quickly(package_env):
    meta, bin_dir = package_env
    scripts = list(meta.get("scripts", {}))
    assert len(scripts) == 1, f"{meta['name']} must have exactly one console script, has {scripts}"
    assert help_time(bin_dir, scripts[0]) < HELP_BUDGET_S


INSPECT = """
import json, sys
from importlib.metadata import entry_points
from papershelf.registry import Paper
eps = [ep for ep in entry_points(group="papershelf.papers")]
papers = [ep.load() for ep in eps]
assert all(isinstance(p, Paper) for p in papers), papers
heavy = [m for m in ("torch", "transformers", "matplotlib") if m in sys.modules]
print(json.dumps({"names": [ep.name for ep in eps], "dists": [ep.dist.name for ep in eps], "heavy": heavy,
  "papers": [{"id": p.id, "arxiv": p.arxiv, "distribution": p.distribution,
              "claims": [{"id": c.id, "run": c.run if isinstance(c.run, str) else "", "budget": c.quick_budget_s}
                         for c in p.claims]} for p in papers]}))
"""


def inspect(bin_dir: Path) -> dict:
    done = run(bin_dir, "python", "-c", INSPECT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_registers_exactly_one_paper(package_env):
    meta, bin_dir = package_env
    found = inspect(bin_dir)
    assert found["dists"] == [meta["name"]], (
        f"alone, the env should register only {meta['name']}: {found}"
    )
    paper = found["papers"][0]
    assert paper["distribution"] == meta["name"]
    assert paper["claims"], "a paper must declare at least one claim"
    assert all(":" in c["run"] for c in paper["claims"]), (
        "claims point at 'module:function' (lazy import)"
    )
    assert found["heavy"] == [], f"loading the Paper imported {found['heavy']}; keep paper.py light"


def test_cheapest_quick_claim_writes_valid_results(package_env, tmp_path):
    meta, bin_dir = package_env
    paper = inspect(bin_dir)["papers"][0]
    cheapest = min(paper["claims"], key=lambda c: c["budget"])
    script = next(iter(meta["scripts"]))
    done = run(
        bin_dir, script, "reproduce", "--quick", "--claim", cheapest["id"], "--out", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    sys.path.insert(0, str(ROOT / "shared" / "src"))
    from papershelf.repro import validate_results

    doc = json.loads((tmp_path / "results.json").read_text())
    validate_results(doc)
    (claim,) = doc["papers"][0]["claims"]
    assert claim["id"] == cheapest["id"] and claim["status"] == "ok"
    assert claim["wall_time_s"] < 4 * max(cheapest["budget"], 30), (
        "quick run far over its declared budget"
    )


@whole_shelf
def test_whole_shelf_registers_every_package_once():
    """In the root env (every member installed), each package registers its own paper."""
    names = {pyproject(p)["name"] for p in PACKAGES}
    found = inspect(Path(sys.executable).parent)
    assert sorted(found["dists"]) == sorted(names)
    assert len({p["id"] for p in found["papers"]}) == len(names), "paper ids must be unique"
    listing = run(Path(sys.executable).parent, "papershelf", "list")
    assert listing.returncode == 0
    for paper in found["papers"]:
        assert f"arXiv:{paper['arxiv']}" in listing.stdout


@pytest.mark.parametrize(
    "package", PACKAGES or [None], ids=[p.name for p in PACKAGES] or ["no-packages"]
)
def test_member_follows_the_skeleton(package):
    """docs/design.md, section 3: the files, names and rules every paper package shares."""
    if package is None:
        pytest.skip("no paper packages under packages/ yet")
    found = skeleton.violations(package, root=ROOT)
    assert found == [], "\n".join(found)


@whole_shelf
def test_papershelf_follows_the_house_rules():
    """No relative imports, and ``.step()`` only inside ``papershelf.train`` (the one loop)."""
    found = skeleton.shared_violations(ROOT / "shared")
    assert found == [], "\n".join(found)


@whole_shelf
def test_whole_shelf_design_doc_and_readme_links():
    """docs/design.md exists, the root README links it, and no README link leaves the
    repository or points at nothing."""
    found = skeleton.root_violations(ROOT)
    assert found == [], "\n".join(found)


RESULTS = ROOT / "docs" / "results" / "results.json"


@whole_shelf
def test_whole_shelf_readme_tables_match_the_committed_results():
    """The root README's table and every package README's claims table are generated from
    docs/results/results.json (`papershelf report`), and every member's paper is in it."""
    from papershelf.report import load_results, readme_table, replace_readme_block

    doc = load_results(RESULTS)
    names = {p["id"] for p in doc["papers"]}
    stale = []
    targets = [(ROOT / "README.md", None)]
    for folder in PACKAGES:  # a paper's id is its package folder's name
        assert folder.name in names, f"{folder.name}: not in {RESULTS.relative_to(ROOT)}"
        targets.append((folder / "README.md", folder.name))
    for readme, paper_id in targets:
        text = readme.read_text(encoding="utf-8")
        if replace_readme_block(text, readme_table(doc, paper_id), str(readme)) != text:
            stale.append(str(readme.relative_to(ROOT)))
    assert not stale, (
        f"out of date with {RESULTS.relative_to(ROOT)}: {stale}; "
        "run `uv run papershelf report docs/results/results.json --readme <README> [--paper ID]`"
    )
