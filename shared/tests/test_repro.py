import json

import pytest
from papershelf.repro import reproduce, to_markdown, validate_results


def test_results_files_follow_the_schema(toy_paper, tmp_path):
    doc = reproduce([toy_paper], out=tmp_path, quick=True, seed=3)
    on_disk = json.loads((tmp_path / "results.json").read_text())
    validate_results(on_disk)
    assert on_disk == json.loads(json.dumps(doc))
    assert on_disk["seed"] == 3 and on_disk["quick"] is True
    assert "papershelf" in on_disk["environment"]["packages"]
    claims = {c["id"]: c for c in on_disk["papers"][0]["claims"]}
    assert claims["good"]["status"] == "ok" and claims["good"]["holds"] is True
    assert claims["good"]["details"] == {"per_seed": [0.9, 0.91]}
    assert (
        claims["broken"]["status"] == "error" and "ModuleNotFoundError" in claims["broken"]["error"]
    )
    assert claims["raises"]["error"] == "RuntimeError: boom"
    assert (tmp_path / "toy" / "raises" / "error.txt").read_text().startswith("Traceback")
    assert (tmp_path / "toy" / "summary.png").stat().st_size > 0
    md = (tmp_path / "results.md").read_text()
    assert "| toy | good | accuracy | 0.9 | 0.5 (chance) | 0.9 (Table 1) | yes |" in md
    assert md == to_markdown(on_disk)


def test_claim_filter(toy_paper, tmp_path):
    doc = reproduce([toy_paper], out=tmp_path, claims=["good"])
    assert [c["id"] for c in doc["papers"][0]["claims"]] == ["good"]
    with pytest.raises(ValueError, match="not a claim"):
        reproduce([toy_paper], out=tmp_path, claims=["missing"])


def test_a_second_run_into_the_folder_keeps_the_other_claims(toy_paper, tmp_path):
    reproduce([toy_paper], out=tmp_path, claims=["raises"])
    doc = reproduce([toy_paper], out=tmp_path, claims=["good"])
    assert [c["id"] for c in doc["papers"][0]["claims"]] == ["good", "raises"]
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(doc))
    with pytest.raises(ValueError, match=r"^out: .* quick run with seed 0"):
        reproduce([toy_paper], out=tmp_path, claims=["good"], quick=False)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"^out: .* not a papershelf results file"):
        reproduce([toy_paper], out=tmp_path, claims=["good"])


def test_progress_lines_name_each_claim_its_verdict_and_time(toy_paper, tmp_path):
    import io

    from papershelf.progress import RunProgress

    stream = io.StringIO()
    progress = RunProgress(total=0, budget_s=0, stream=stream, heartbeat_s=0)
    reproduce([toy_paper], out=tmp_path, progress=progress)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[1/3] toy good: running")
    assert lines[1].startswith("[1/3] toy good: yes; accuracy = 0.9 vs 0.5 in 0:0")
    assert lines[3].startswith("[2/3] toy broken: error (ModuleNotFoundError")
    assert lines[-1].startswith("3 claim(s) in ")


def test_inconclusive_claims_record_their_precondition_and_reason(tmp_path):
    from papershelf import Claim, Paper, Result

    def undertrained(ctx):
        return Result(metric="acc", ours=0.1, holds=None, reason="accuracy 9 % < 90 %")

    paper = Paper(
        "toy",
        "t",
        "0",
        claims=(Claim("c", "s", "p", run=undertrained, precondition="accuracy >= 90 %"),),
    )
    doc = reproduce([paper], out=tmp_path)
    record = doc["papers"][0]["claims"][0]
    assert record["precondition"] == "accuracy >= 90 %"
    assert record["reason"] == "accuracy 9 % < 90 %" and record["holds"] is None
    assert "(inconclusive): accuracy 9 % < 90 %" in to_markdown(doc)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("schema",), "other/1", "schema"),
        (("seed",), "0", "seed"),
        (("papers", 0, "claims", 0, "holds"), "maybe", "holds"),
        (("papers", 0, "claims", 0, "ours"), "high", "ours"),
        (("papers", 0, "claims", 0, "status"), "fine", "status"),
    ],
)
def test_validate_results_names_the_broken_field(toy_paper, tmp_path, path, value, message):
    doc = json.loads(json.dumps(reproduce([toy_paper], out=tmp_path, claims=["good"])))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValueError, match=message):
        validate_results(doc)


def test_a_claim_pinning_torch_threads_does_not_leak(tmp_path):
    import torch
    from papershelf import Claim, Paper, Result

    def pin(ctx):
        torch.set_num_threads(1)
        return Result(metric="m", ours=1.0, holds=True)

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        reproduce([Paper("p", "t", "1", claims=(Claim("pin", "s", "v", run=pin),))], out=tmp_path)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_runner_applies_the_claims_threads_and_seed(tmp_path, monkeypatch):
    import torch
    from papershelf import Claim, Paper, Result
    from papershelf.threads import THREADS_ENV

    monkeypatch.delenv(THREADS_ENV, raising=False)
    seen = []

    def probe(ctx):
        seen.append((torch.get_num_threads(), torch.rand(1).item()))
        return Result(metric="m", ours=1.0, holds=True)

    paper = Paper("p", "t", "1", claims=(Claim("probe", "s", "v", run=probe, threads=1),))
    torch.manual_seed(123)
    doc = reproduce([paper], out=tmp_path, seed=7)
    torch.manual_seed(456)  # what ran before a claim does not change its random draws
    reproduce([paper], out=tmp_path, seed=7)
    assert seen[0] == seen[1] and seen[0][0] == 1
    assert doc["papers"][0]["claims"][0]["config"]["torch_threads"] == 1
    monkeypatch.setenv(THREADS_ENV, "2")
    reproduce([paper], out=tmp_path, seed=7)
    assert seen[2][0] == 2


def test_an_inconclusive_claim_is_recorded_as_such(tmp_path):
    from io import StringIO

    from papershelf import Claim, Paper, Result
    from papershelf.report import print_table, to_markdown
    from papershelf.report import verdict as holds_text
    from rich.console import Console

    def unlearned(ctx):
        return Result(metric="m", ours=0.1, baseline=0.1, holds=None, note="did not learn")

    paper = Paper("p", "t", "1", claims=(Claim("c", "s", "v", run=unlearned),))
    doc = reproduce([paper], out=tmp_path)
    validate_results(doc)
    (record,) = doc["papers"][0]["claims"]
    assert record["status"] == "ok" and record["holds"] is None
    assert holds_text(record) == "inconclusive" and "| inconclusive |" in to_markdown(doc)
    printed = StringIO()
    print_table(doc, Console(file=printed, width=200))
    assert "inconclusive" in printed.getvalue()
