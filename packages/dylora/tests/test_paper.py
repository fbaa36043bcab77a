"""The paper record: registered, light, every claim resolvable, threads declared."""

from __future__ import annotations

from papershelf.registry import get_paper


def test_paper_is_registered_and_light():
    paper = get_paper("dylora")
    assert paper.arxiv == "2210.07558"
    assert [c.id for c in paper.claims] == ["rank-sweep-linear", "rank-sweep-minilm", "search-free"]
    for claim in paper.claims:
        assert callable(claim.resolve())
    assert min(c.quick_budget_s for c in paper.claims) <= 30
    for claim in paper.claims:
        assert claim.run == f"dylora.claims.{claim.id.replace('-', '_')}:run"
    assert paper.claim("rank-sweep-linear").threads == 1 and paper.bench_threads == 1
