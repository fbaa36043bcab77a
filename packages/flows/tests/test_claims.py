"""The paper record, and each claim's rule (``verdict``) on hand-made numbers: the verdict
flips to "no" or "inconclusive" exactly where the rule, fixed before the run, says so. The
quick runs themselves are slow tests (the shelf's contract test runs the cheapest one)."""

from __future__ import annotations

import math

import pytest
from flows.claims import equivariant_efficiency as c3
from flows.claims import spline_vs_affine as c1
from flows.claims import taf_tails as c2
from flows.data import CHECKERBOARD_ENTROPY
from papershelf.registry import Result, RunContext


def test_paper_record():
    from flows.paper import PAPER

    assert PAPER.id == "flows" and len(PAPER.claims) == 3
    cheapest = min(PAPER.claims, key=lambda c: c.quick_budget_s)
    assert cheapest.id == "taf-tails"
    for claim in PAPER.claims:
        assert callable(claim.resolve())
        assert claim.run == f"flows.claims.{claim.id.replace('-', '_')}:run"
        assert claim.threads == 1  # tiny models: the runner pins one torch thread
        assert claim.precondition  # declared with the claim, before its run


# --- C3: equivariant efficiency at equal data -------------------------------------------


def _c3_row(g: dict, plain: dict, seed: int = 0, sym_g: float = 1e-6, sym_p: float = 0.5):
    row = {"seed": seed}
    for n in g:
        row[f"nll G n={n}"], row[f"nll plain n={n}"] = g[n], plain[n]
        row[f"symmetry G n={n}"], row[f"symmetry plain n={n}"] = sym_g, sym_p
    return row


def test_c3_holds_when_g_wins_at_every_equal_n():
    rows = [_c3_row({64: 3.4, 512: 3.2}, {64: 3.8, 512: 3.6})]
    assert c3.verdict(rows, [64, 512]) == (True, "")


def test_c3_fails_when_plain_wins_at_some_n_even_if_g_at_64_beats_plain_at_4096():
    rows = [_c3_row({64: 3.4, 512: 3.3}, {64: 3.8, 512: 3.2})]
    holds, reason = c3.verdict(rows, [64, 512])
    assert holds is False and "n=512" in reason


def test_c3_inconclusive_inside_the_noise_band_and_when_the_plain_flow_did_not_learn():
    close = [_c3_row({64: 3.4, 512: 3.20}, {64: 3.8, 512: 3.23})]
    holds, reason = c3.verdict(close, [64, 512])
    assert holds is None and "noise band" in reason
    untrained = [_c3_row({64: 3.4, 512: 3.3}, {64: 4.3, 512: 4.0})]
    holds, reason = c3.verdict(untrained, [64, 512])
    assert holds is None and "did not learn" in reason
    assert pytest.approx(1 + math.log(2 * math.pi * 4.125)) == c3.GAUSSIAN_NLL


def test_c3_fails_on_a_symmetry_check():
    rows = [_c3_row({64: 3.4, 512: 3.2}, {64: 3.8, 512: 3.6}, sym_g=1e-3)]
    assert c3.verdict(rows, [64, 512])[0] is False
    rows = [_c3_row({64: 3.4, 512: 3.2}, {64: 3.8, 512: 3.6}, sym_p=1e-3)]
    assert c3.verdict(rows, [64, 512])[0] is False


# --- C1: spline vs affine -------------------------------------------------------------


def test_c1_rule():
    good_mass = {"NSF": [1.0], "RealNVP": [0.995]}
    assert c1.verdict({"checkerboard": {"NSF": 3.6, "RealNVP": 3.7}}, good_mass) == (True, "")
    holds, reason = c1.verdict({"checkerboard": {"NSF": 3.8, "RealNVP": 3.7}}, good_mass)
    assert holds is False and "checkerboard" in reason
    holds, reason = c1.verdict(
        {"checkerboard": {"NSF": 3.6, "RealNVP": 3.7}}, {"NSF": [1.02], "RealNVP": [1.0]}
    )
    assert holds is None and "integrate" in reason
    below = CHECKERBOARD_ENTROPY - 0.03
    holds, reason = c1.verdict({"checkerboard": {"NSF": below, "RealNVP": 3.7}}, good_mass)
    assert holds is None and "entropy" in reason


def test_c1_runs_the_cited_rq_ar_family():
    assert c1._models(4)["NSF"]().transforms[0].__class__.__name__ == "MaskedAutoregressive"


# --- C2: tails ----------------------------------------------------------------------------


def _c2_row(**over):
    row = {
        "seed": 0,
        "nu": 2.2,
        "bulk_nll_taf": 3.95,
        "bulk_nll_gaussian": 4.0,
        "nu_per_dim": [2.1, 5.5],
    }
    for r, (t, g) in zip(c2.RADII, [(0.5, 5.0), (4.0, 100.0), (12.0, 250.0)], strict=True):
        row[f"gap_taf_R{int(r)}"], row[f"gap_gaussian_R{int(r)}"] = t, g
    row.update(over)
    return row


def test_c2_rule():
    assert c2.verdict([_c2_row()]) == (True, "")
    holds, reason = c2.verdict([_c2_row(nu=3.4)])
    assert holds is False and "TAF nu" in reason
    holds, reason = c2.verdict([_c2_row(nu_per_dim=[3.004, 5.3])])
    assert holds is False and "gTAF nu(t2)" in reason
    holds, reason = c2.verdict([_c2_row(nu_per_dim=[2.0, 1.8])])
    assert holds is False and "nu(t5)" in reason
    holds, reason = c2.verdict([_c2_row(gap_gaussian_R3000=50.0)])
    assert holds is False and "grows" in reason
    holds, reason = c2.verdict([_c2_row(bulk_nll_gaussian=4.6)])
    assert holds is None and "bulk" in reason


def test_c2_tail_gap_separates_a_t2_model_from_a_gaussian_one():
    """The measurement behind the verdict, without training: on exact t_2 tail draws the
    t_2 density itself has gap 0 and a unit Gaussian's gap explodes with R."""
    import torch
    from flows.tails import far_tail_gap, t_logpdf

    eye = torch.eye(2, dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    gaps = []
    for r in c2.RADII:
        pts = c2._tail_points(r, 500, eye, gen)
        assert bool((pts[:, 0] > r).all())
        true = c2._true_logp(pts, eye)
        torch.testing.assert_close(true, t_logpdf(pts, 2.0).sum(-1))
        gauss = torch.distributions.Normal(0.0, 1.0).log_prob(pts).sum(-1)
        gaps.append(far_tail_gap(true, gauss))
        assert far_tail_gap(true, true) == 0.0
    assert gaps[0] > 100 and gaps[1] > 50 * gaps[0] / 10 and gaps[2] > gaps[1]


def _run(claim_id: str, tmp_path) -> Result:
    """Run a claim as papershelf's runner does: on the claim's threads, seeded."""
    from flows.paper import PAPER
    from papershelf.seeding import seed_everything
    from papershelf.threads import torch_threads

    claim = PAPER.claim(claim_id)
    with torch_threads(claim.threads):
        seed_everything(0)
        return claim.resolve()(RunContext(quick=True, seed=0, out=tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", ["taf-tails", "spline-vs-affine", "equivariant-efficiency"])
def test_quick_run_matches_its_own_rule(claim_id, tmp_path):
    """The verdict a quick run reports is the one its rule gives on its own numbers."""
    result = _run(claim_id, tmp_path)
    details = result.details
    if claim_id == "taf-tails":
        expected = c2.verdict(details["per_seed"])
        row = details["per_seed"][0]
        assert row["gap_gaussian_R3000"] > 10 * row["gap_taf_R3000"]
    elif claim_id == "equivariant-efficiency":
        expected = c3.verdict(details["per_seed"], result.config["curve_n"])
    else:
        expected = c1.verdict(details["mean_test_nll"], details["grid_mass"])
    assert (result.holds, result.reason or details["verdict_detail"]) == (
        expected[0],
        expected[1],
    )
    for name in result.plots:
        assert (tmp_path / name).is_file()
