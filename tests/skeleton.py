"""Static checks of the package skeleton (docs/design.md, section 3).

Pure functions over folder trees: the checked code is parsed, never imported, so the
checks need nothing beyond the standard library and run in any member's env in
milliseconds. Each check returns a list of violation strings, one per problem::

    <path>[:<line>]: <rule>: <what is wrong>

``<path>`` is relative to the folder above the checked package (``dylora/src/dylora/cli.py``)
or, for the repository-wide checks, to the repository root. ``<rule>`` is one of ``RULES``.

    violations(packages/<name>, root)   one paper package
    shared_violations(shared)           the shared package
    root_violations(root)               the design document and every README's links

``python tests/skeleton.py`` prints every violation in the repository.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

RULES = {
    "src-layout": "the package's code lives in src/<import_name>/",
    "syntax-error": "every module parses",
    "required-file": "__init__, config, cli, workflow, paper, bench and claims/__init__ exist",
    "claims-file": "claims are a claims/ folder, never one claims.py",
    "banned-name": "no experiment.py, experiments.py, training.py or train_cli.py",
    "claim-run": 'every Claim in paper.py runs "<import>.claims.<claim_id with - -> _>:run"',
    "claim-module": "claims/<claim_id>.py exists for every claim and defines run(ctx)",
    "claims-extra": "claims/ holds __init__.py and one module per claim, nothing else",
    "relative-import": "no relative imports (from . import x)",
    "optimizer-step": "no .step() call: every loop goes through papershelf.train",
    "thread-setting": "no set_num_threads / set_torch_threads: threads are declared on the Claim",
    "config-outside": "Config subclasses are defined in config.py only",
    "config-missing": "config.py defines at least one papershelf.config.Config subclass",
    "config-base": "every @dataclass *Config subclasses papershelf.config.Config",
    "naive-name": "naive.py's public functions are named naive_<op>",
    "naive-op": "every naive_<op> has a fast def <op> in the package",
    "naive-signature": "naive_<op> has the same parameter names, in order, as <op>",
    "test-mirror": "every tests/test_<x>.py names a module or subpackage <x> of src",
    "readme-link": "relative README links resolve to a path inside the repository",
    "design-link": "the README links docs/design.md",
    "design-doc": "docs/design.md exists",
}

REQUIRED = (
    "__init__.py",
    "config.py",
    "cli.py",
    "workflow.py",
    "paper.py",
    "bench.py",
    "claims/__init__.py",
)
BANNED = ("experiment.py", "experiments.py", "training.py", "train_cli.py")
THREAD_SETTERS = ("set_num_threads", "set_num_interop_threads", "set_torch_threads")
# The shared config base and the shared configs a package config may extend.
CONFIG_BASES = frozenset(
    {"papershelf.config.Config", "papershelf.Config", "papershelf.train.TrainConfig"}
)
DESIGN = Path("docs/design.md")


# --------------------------------------------------------------------------- helpers


@dataclass
class _Module:
    """One parsed source file of a package."""

    path: Path  # absolute
    rel: Path  # relative to src/<import_name>
    name: str  # dotted module name
    tree: ast.Module

    @property
    def package(self) -> list[str]:
        """The dotted parts of the package that holds this module."""
        parts = self.name.split(".")
        return parts if self.path.name == "__init__.py" else parts[:-1]


def _py_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(import_name: str, rel: Path) -> str:
    parts = [import_name, *rel.with_suffix("").parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _parse(
    files: list[Path], src_pkg: Path, import_name: str, show
) -> tuple[list[_Module], list[str]]:
    modules, problems = [], []
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            problems.append(f"{show(path)}:{exc.lineno or 0}: syntax-error: {exc.msg}")
            continue
        rel = path.relative_to(src_pkg)
        modules.append(_Module(path, rel, _module_name(import_name, rel), tree))
    return modules, problems


def _relative_imports(modules: list[_Module], show) -> list[str]:
    return [
        f"{show(m.path)}:{node.lineno}: relative-import: "
        f"'from {'.' * node.level}{node.module or ''} import ...'; import by the full name"
        for m in modules
        for node in ast.walk(m.tree)
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]


def _step_calls(modules: list[_Module], show) -> list[str]:
    return [
        f"{show(m.path)}:{node.lineno}: optimizer-step: "
        f"'{ast.unparse(node.func)}()' call; loops go through papershelf.train"
        for m in modules
        for node in ast.walk(m.tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "step"
    ]


def _thread_settings(modules: list[_Module], show) -> list[str]:
    found = []
    for m in modules:
        for node in ast.walk(m.tree):
            name = None
            if isinstance(node, ast.Attribute) and node.attr in THREAD_SETTERS:
                name = node.attr
            elif isinstance(node, ast.Name) and node.id in THREAD_SETTERS:
                name = node.id
            elif isinstance(node, ast.ImportFrom):
                name = next((a.name for a in node.names if a.name in THREAD_SETTERS), None)
            if name:
                found.append(
                    f"{show(m.path)}:{node.lineno}: thread-setting: '{name}'; declare "
                    "threads on the Claim (Claim(..., threads=1)) or Paper(bench_threads=...)"
                )
    return found


def _markdown_links(text: str) -> Iterator[tuple[int, str]]:
    """(line number, target) of every inline link/image and reference definition,
    outside fenced code blocks and inline code."""
    fence = None
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        line = re.sub(r"`[^`]*`", "", line)
        for match in re.finditer(r"\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'(][^)]*)?\)", line):
            yield lineno, match.group(1)
        ref = re.match(r"\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", line)
        if ref:
            yield lineno, ref.group(1)


def link_violations(markdown: Path, root: Path, show) -> list[str]:
    """Relative links of ``markdown`` that leave ``root`` or point at nothing."""
    if not markdown.is_file():
        return []
    root = Path(os.path.normpath(root.absolute()))
    found = []
    for lineno, target in _markdown_links(markdown.read_text(encoding="utf-8")):
        where = f"{show(markdown)}:{lineno}: readme-link:"
        if not target or target.startswith("#"):
            continue
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", target) and not target.startswith("file:"):
            continue  # a URL (https:, mailto:); file: URLs are local paths
        path = unquote(re.split(r"[#?]", target, maxsplit=1)[0])
        if target.startswith(("/", "file:")):
            found.append(f"{where} '{target}' is an absolute path; link relative to the file")
            continue
        resolved = Path(os.path.normpath(markdown.parent.absolute() / path))
        if not resolved.is_relative_to(root):
            found.append(f"{where} '{target}' leaves the repository")
        elif not resolved.exists():
            found.append(f"{where} '{target}' does not exist")
    return found


def _links_to(markdown: Path, target: Path) -> bool:
    target = Path(os.path.normpath(target.absolute()))
    for _, link in _markdown_links(markdown.read_text(encoding="utf-8")):
        path = unquote(re.split(r"[#?]", link, maxsplit=1)[0])
        if path and Path(os.path.normpath(markdown.parent.absolute() / path)) == target:
            return True
    return False


# ------------------------------------------------------------------ name resolution


class _Names:
    """Resolves a name used in a module to the dotted name it stands for."""

    def __init__(self, modules: list[_Module]):
        self.by_name = {m.name: m for m in modules}
        self.aliases = {m.name: self._aliases(m) for m in modules}

    @staticmethod
    def _aliases(m: _Module) -> dict[str, str]:
        names: dict[str, str] = {}
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    names[a.asname or a.name.split(".")[0]] = (
                        a.name if a.asname else a.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = m.package[: len(m.package) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                for a in node.names:
                    names[a.asname or a.name] = f"{module}.{a.name}"
        return names

    def resolve(self, expr: ast.expr, module: str) -> str | None:
        if isinstance(expr, ast.Name):
            dotted = self.aliases.get(module, {}).get(expr.id, f"{module}.{expr.id}")
        elif isinstance(expr, ast.Attribute):
            head = self.resolve(expr.value, module)
            dotted = f"{head}.{expr.attr}" if head else None
        else:
            return None
        return self._follow(dotted) if dotted else None

    def _follow(self, dotted: str) -> str:
        """Follow re-exports inside the package (``pkg.X`` imported in ``pkg/__init__``)."""
        for _ in range(10):
            owner, _, attr = dotted.rpartition(".")
            target = self.aliases.get(owner, {}).get(attr)
            if not target or target == dotted:
                break
            dotted = target
        return dotted


def _is_dataclass(cls: ast.ClassDef) -> bool:
    for deco in cls.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "dataclass":
            return True
    return False


def _config_violations(modules: list[_Module], show) -> list[str]:
    names = _Names(modules)
    classes = [
        (m, node) for m in modules for node in ast.walk(m.tree) if isinstance(node, ast.ClassDef)
    ]
    configs = set(CONFIG_BASES)
    changed = True
    while changed:  # subclasses of subclasses, across modules
        changed = False
        for m, cls in classes:
            qual = f"{m.name}.{cls.name}"
            if qual not in configs and any(names.resolve(b, m.name) in configs for b in cls.bases):
                configs.add(qual)
                changed = True
    found, in_config_py = [], 0
    for m, cls in classes:
        is_config = f"{m.name}.{cls.name}" in configs
        if is_config and m.rel != Path("config.py"):
            found.append(
                f"{show(m.path)}:{cls.lineno}: config-outside: config class {cls.name} "
                "belongs in config.py"
            )
        in_config_py += is_config and m.rel == Path("config.py")
        if not is_config and _is_dataclass(cls) and cls.name.endswith("Config"):
            found.append(
                f"{show(m.path)}:{cls.lineno}: config-base: dataclass {cls.name} does not "
                "subclass papershelf.config.Config"
            )
    config_py = next((m for m in modules if m.rel == Path("config.py")), None)
    if config_py is not None and not in_config_py:
        found.append(
            f"{show(config_py.path)}: config-missing: defines no papershelf.config.Config subclass"
        )
    return found


# --------------------------------------------------------------------- paper checks


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _claims_in(tree: ast.Module) -> list[tuple[int, ast.expr | None, ast.expr | None]]:
    """(line, id node, run node) of every ``Claim(...)`` call; positional order as
    ``papershelf.registry.Claim``: id, statement, paper_value, run."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name != "Claim":
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        id_node = kw.get("id", node.args[0] if len(node.args) > 0 else None)
        run_node = kw.get("run", node.args[3] if len(node.args) > 3 else None)
        found.append((node.lineno, id_node, run_node))
    return found


def _claim_violations(modules: list[_Module], src_pkg: Path, import_name: str, show) -> list[str]:
    paper = next((m for m in modules if m.rel == Path("paper.py")), None)
    if paper is None:
        return []  # reported as a missing required file
    where = show(paper.path)
    claims = _claims_in(paper.tree)
    if not claims:
        return [f"{where}: claim-run: paper.py declares no Claim(id=..., run=...)"]
    found, expected_modules = [], set()
    for lineno, id_node, run_node in claims:
        claim_id, run = _literal(id_node), _literal(run_node)
        if claim_id is None:
            found.append(f"{where}:{lineno}: claim-run: the Claim's id is not a literal string")
            continue
        module = claim_id.replace("-", "_")
        expected_modules.add(module)
        wanted = f"{import_name}.claims.{module}:run"
        if run != wanted:
            shown = repr(run) if run is not None else "not a literal string"
            found.append(
                f"{where}:{lineno}: claim-run: claim {claim_id!r} runs {shown}; must be {wanted!r}"
            )
        path = src_pkg / "claims" / f"{module}.py"
        claim_module = next((m for m in modules if m.path == path), None)
        if not path.is_file():
            found.append(
                f"{show(path)}: claim-module: missing; claim {claim_id!r} needs its own module"
            )
        elif claim_module is not None and not any(
            isinstance(n, ast.FunctionDef) and n.name == "run" for n in claim_module.tree.body
        ):
            found.append(f"{show(path)}: claim-module: defines no run(ctx) -> Result")
    claims_dir = src_pkg / "claims"
    if claims_dir.is_dir():
        for entry in sorted(claims_dir.iterdir()):
            if entry.name in ("__init__.py", "__pycache__"):
                continue
            if entry.suffix == ".py" and entry.stem in expected_modules:
                continue
            found.append(
                f"{show(entry)}: claims-extra: claims/ holds one module per claim "
                f"({', '.join(sorted(expected_modules))}); move shared code out of claims/"
            )
    return found


# --------------------------------------------------------------------- naive oracles


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> list[str]:
    args = fn.args
    names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    if method and names and names[0] in ("self", "cls"):
        names = names[1:]
    return names


def _defs(tree: ast.Module) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """Module-level functions and methods (of classes at any depth), with ``is_method``."""
    stack: list[tuple[list[ast.stmt], bool]] = [(tree.body, False)]
    while stack:
        body, in_class = stack.pop()
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield node, in_class
            elif isinstance(node, ast.ClassDef):
                stack.append((node.body, True))


def _naive_violations(modules: list[_Module], show) -> list[str]:
    fast: dict[str, list[tuple[list[str], _Module]]] = {}
    for m in modules:
        if m.path.name != "naive.py":
            for fn, method in _defs(m.tree):
                fast.setdefault(fn.name, []).append((_params(fn, method), m))
    found = []
    for m in (m for m in modules if m.path.name == "naive.py"):
        for fn in m.tree.body:
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            where = f"{show(m.path)}:{fn.lineno}:"
            if not fn.name.startswith("naive_"):
                if not fn.name.startswith("_"):
                    found.append(
                        f"{where} naive-name: {fn.name} must be named naive_<op> after the "
                        "fast op it checks (or be private)"
                    )
                continue
            op, params = fn.name.removeprefix("naive_"), _params(fn, False)
            candidates = fast.get(op, [])
            if not candidates:
                found.append(f"{where} naive-op: {fn.name} checks no 'def {op}' in the package")
            elif all(p != params for p, _ in candidates):
                others = "; ".join(f"{op}({', '.join(p)}) in {show(c.path)}" for p, c in candidates)
                found.append(
                    f"{where} naive-signature: {fn.name}({', '.join(params)}) does not match "
                    f"{others}"
                )
    return found


# ----------------------------------------------------------------------- tests mirror


def _mirror_violations(pkg: Path, src_pkg: Path, show) -> list[str]:
    tests = pkg / "tests"
    if not tests.is_dir():
        return []
    names = set()
    for path in _py_files(src_pkg):
        parts = list(path.relative_to(src_pkg).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        for i in range(1, len(parts) + 1):  # the module and every subpackage above it
            names.add("_".join(parts[:i]))
    found = []
    for path in sorted(tests.rglob("test_*.py")):
        if "__pycache__" in path.parts:
            continue
        folders = list(path.relative_to(tests).parent.parts)
        name = "_".join([*folders, path.stem.removeprefix("test_")])
        if name not in names:
            found.append(
                f"{show(path)}: test-mirror: {name!r} is no module or subpackage of src; "
                "name the test after the module it tests (test_<subpkg>_<module>.py, "
                "<subpkg>/test_<module>.py)"
            )
    return found


# -------------------------------------------------------------------------- the checks


def import_name(pkg: Path) -> str:
    """The import name: the one package folder under src/, else from pyproject's name."""
    src = pkg / "src"
    if src.is_dir():
        found = [
            d.name
            for d in src.iterdir()
            if d.is_dir() and d.name != "__pycache__" and not d.name.endswith(".egg-info")
        ]
        if len(found) == 1:
            return found[0]
    pyproject = pkg / "pyproject.toml"
    if pyproject.is_file():
        name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
        return name.replace("-", "_")
    return pkg.name.replace("-", "_")


def violations(pkg: Path, root: Path | None = None) -> list[str]:
    """Every skeleton violation of the paper package in folder ``pkg`` (``packages/<name>``).

    ``root`` is the repository root that README links must stay inside (default: two
    folders up, as for ``packages/<name>``).
    """
    pkg = Path(pkg)
    root = Path(root) if root is not None else pkg.absolute().parents[1]

    def show(path: Path) -> str:
        return path.relative_to(pkg.parent).as_posix()

    name = import_name(pkg)
    src_pkg = pkg / "src" / name
    if not src_pkg.is_dir():
        return [f"{show(pkg)}: src-layout: no src/{name}/ folder"]

    found = [
        f"{show(src_pkg / f)}: required-file: missing"
        for f in REQUIRED
        if not (src_pkg / f).is_file()
    ]
    if (src_pkg / "claims.py").is_file():
        found.append(
            f"{show(src_pkg / 'claims.py')}: claims-file: claims are a claims/ folder, "
            "one module per claim"
        )
    files = _py_files(src_pkg)
    found += [
        f"{show(p)}: banned-name: {p.name} is an old name; name the module for what it holds "
        "(workflow.py for command bodies, claims/<claim>.py for experiments)"
        for p in files
        if p.name in BANNED
    ]
    modules, problems = _parse(files, src_pkg, name, show)
    found += problems
    found += _claim_violations(modules, src_pkg, name, show)
    found += _relative_imports(modules, show)
    found += _step_calls(modules, show)
    found += _thread_settings(modules, show)
    found += _config_violations(modules, show)
    found += _naive_violations(modules, show)
    found += _mirror_violations(pkg, src_pkg, show)
    readme = pkg / "README.md"
    found += link_violations(readme, root, show)
    if not readme.is_file() or not _links_to(readme, root / DESIGN):
        found.append(f"{show(readme)}: design-link: does not link {DESIGN.as_posix()}")
    return found


def shared_violations(shared: Path) -> list[str]:
    """The shared package's rules: no relative imports, and ``.step()`` only in
    ``papershelf.train`` (the one loop)."""
    shared = Path(shared)
    src_pkg = shared / "src" / "papershelf"

    def show(path: Path) -> str:
        return path.relative_to(shared.parent).as_posix()

    modules, found = _parse(_py_files(src_pkg), src_pkg, "papershelf", show)
    found += _relative_imports(modules, show)
    outside_train = [m for m in modules if m.rel != Path("train.py") and m.rel.parts[0] != "train"]
    found += _step_calls(outside_train, show)
    return found


def readmes(root: Path) -> list[Path]:
    """The root README, the shared package's and every paper package's."""
    root = Path(root)
    candidates = [root / "README.md", root / "shared" / "README.md"]
    candidates += sorted(
        p / "README.md" for p in (root / "packages").glob("*") if (p / "pyproject.toml").is_file()
    )
    return [p for p in candidates if p.is_file()]


def root_violations(root: Path) -> list[str]:
    """docs/design.md exists, the root README links it, and no README (nor the design
    document) links outside the repository or to nothing."""
    root = Path(root)

    def show(path: Path) -> str:
        return path.relative_to(root).as_posix()

    found = []
    if not (root / DESIGN).is_file():
        found.append(f"{DESIGN.as_posix()}: design-doc: missing")
    for markdown in [*readmes(root), root / DESIGN]:
        found += link_violations(markdown, root, show)
    readme = root / "README.md"
    if readme.is_file() and not _links_to(readme, root / DESIGN):
        found.append(f"README.md: design-link: does not link {DESIGN.as_posix()}")
    return found


def main(root: Path) -> int:
    """Print every violation in the repository at ``root``; the count is the exit status."""
    found = root_violations(root) + shared_violations(root / "shared")
    for pkg in sorted(p for p in (root / "packages").glob("*") if (p / "pyproject.toml").is_file()):
        found += [f"packages/{v}" for v in violations(pkg, root)]
    print("\n".join(found) or "no violation")
    return min(len(found), 100)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1]))
