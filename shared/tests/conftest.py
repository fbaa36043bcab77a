import pytest
from papershelf import Claim, Paper, Result


def good_claim(ctx):
    ctx.plot_path("dummy").write_bytes(b"")
    return Result(
        metric="accuracy",
        ours=0.9,
        baseline=0.5,
        baseline_name="chance",
        holds=0.9 > 0.5,
        details={"per_seed": [0.9, 0.91]},
        config={"steps": 3},
    )


def failing_claim(ctx):
    raise RuntimeError("boom")


@pytest.fixture
def toy_paper():
    return Paper(
        id="toy",
        title="A toy paper",
        arxiv="0000.00000",
        claims=(
            Claim("good", "ours beats chance", "0.9 (Table 1)", run=good_claim),
            Claim("broken", "this one crashes", "n/a", run="tests_support_missing:nothing"),
            Claim("raises", "this one raises", "n/a", run=failing_claim),
        ),
    )
