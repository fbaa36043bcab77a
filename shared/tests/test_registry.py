from importlib.metadata import EntryPoint

import pytest
from papershelf import registry
from papershelf.errors import UserError
from papershelf.registry import Claim, Paper


def test_duplicate_claim_ids_are_rejected():
    with pytest.raises(UserError, match="unique"):
        Paper(
            "p", "t", "1", claims=(Claim("a", "s", "v", run=print), Claim("a", "s", "v", run=print))
        )


def test_unknown_claim_names_the_choices(toy_paper):
    with pytest.raises(UserError, match="choose from good, broken, raises"):
        toy_paper.claim("nope")


def test_resolve_callable_imports_lazily_and_checks_format():
    assert registry.resolve_callable("json:dumps", "x")([1]) == "[1]"
    with pytest.raises(UserError, match="module:function"):
        registry.resolve_callable("json.dumps", "x")
    with pytest.raises(UserError, match="has no"):
        registry.resolve_callable("json:nothing_here", "x")


def _fake_entry_points(monkeypatch, targets):
    eps = [
        EntryPoint(name=n, value=v, group=registry.ENTRY_POINT_GROUP) for n, v in targets.items()
    ]
    monkeypatch.setattr(
        registry, "entry_points", lambda group: eps if group == registry.ENTRY_POINT_GROUP else []
    )


TOY = Paper("toy", "Toy", "0000.00000", claims=(Claim("c", "s", "v", run=print),))
NOT_A_PAPER = object()


def test_discover_finds_registered_papers(monkeypatch):
    _fake_entry_points(monkeypatch, {"toy": f"{__name__}:TOY"})
    assert list(registry.discover()) == ["toy"]
    assert registry.get_paper("toy") is TOY


def test_discover_rejects_entry_points_that_are_not_papers(monkeypatch):
    _fake_entry_points(monkeypatch, {"bad": f"{__name__}:NOT_A_PAPER"})
    with pytest.raises(UserError, match=r"not a papershelf\.Paper"):
        registry.discover()


def test_get_paper_says_how_to_install(monkeypatch):
    _fake_entry_points(monkeypatch, {"toy": f"{__name__}:TOY"})
    with pytest.raises(UserError, match="uv sync --package krona"):
        registry.get_paper("krona")


def test_get_paper_loads_only_the_paper_asked_for(monkeypatch):
    _fake_entry_points(
        monkeypatch, {"toy": f"{__name__}:TOY", "broken": "no_such_module_xyz.paper:PAPER"}
    )
    assert registry.get_paper("toy") is TOY
    with pytest.raises(UserError, match="paper package 'broken' is broken"):
        registry.discover()
