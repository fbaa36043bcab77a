"""φ, ψ and the margin factor per epoch (Eq. 5, 7, 8; Algorithm 1 with the T ≥ 1 clamp)."""

import pytest
from continuation_kd.config import ContinuationKDConfig
from continuation_kd.schedule import ContinuationSchedule, phi_of
from hypothesis import given, settings
from hypothesis import strategies as st


def sched(**kw):
    return ContinuationSchedule(ContinuationKDConfig(**kw))


def test_phi_endpoints_eq5():
    assert phi_of(10, 10) == pytest.approx(0.1)
    assert phi_of(1, 10) == 1.0


def test_k_values():
    assert sched(t_max=10, n_epochs=30).k == 3
    assert sched(t_max=20, n_epochs=200, psi="eq7").k == 10


def test_even_schedule_first_last_and_breakpoints():
    s = sched(t_max=10, n_epochs=30)
    assert s.at(1).T == 10 and s.at(1).phi == pytest.approx(0.1)
    assert s.at(3).T == 10 and s.at(4).T == 9  # every T value gets k = 3 epochs
    assert s.at(28).T == 1 and s.at(30).phi == 1.0
    assert s.at(30).margin_factor == 1.0 and s.at(1).margin_factor == pytest.approx(0.1)


def test_paper_schedule_clamps_t_at_the_last_epoch():
    s = sched(t_max=10, n_epochs=30, schedule="paper")
    assert s.at(1).T == 10 and s.at(3).T == 9  # Algorithm 1 decrements at i mod k == 0
    assert s.at(30).T == 1  # literal value 0 (phi 1.1) clamped
    assert max(x.phi for x in s.table()) == 1.0


def test_psi_eq8_as_printed():
    s = sched(t_max=10, n_epochs=30, psi="eq8")
    assert s.at(1).psi == pytest.approx(0.025)
    assert s.at(20).psi == pytest.approx(0.5)
    assert s.at(21).psi == 1.0 and s.at(30).psi == 1.0


def test_psi_eq7():
    s = sched(t_max=20, n_epochs=200, psi="eq7")
    assert s.at(1).psi == pytest.approx(1 / 150)
    assert s.at(150).psi == 1.0 and s.at(151).psi == 1.0 and s.at(200).psi == 1.0


def test_psi_is_the_ce_weight_and_increases():
    values = [x.psi for x in sched(psi="eq8").table()]
    assert values[0] < 0.05 and values[-1] == 1.0
    assert values == sorted(values)


def test_anneal_epochs_sets_the_span_then_phi_is_one():
    s = sched(t_max=4, n_epochs=12, anneal_epochs=8)
    assert s.k == 2
    assert [s.at(i).T for i in range(1, 13)] == [4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1]


def test_ablations_fix_the_other_parts():
    s = sched(anneal_psi=False, anneal_teacher=False)
    state = s.at(1)
    assert state.psi == 0.5 and state.phi == 1.0 and state.margin_factor == pytest.approx(0.1)
    m = sched(anneal_margin=False).at(1)
    assert m.margin_factor == 1.0 and m.phi == pytest.approx(0.1)


@pytest.mark.parametrize("epoch", [0, 31, 1.5, True])
def test_epoch_outside_1_to_n_is_refused(epoch):
    with pytest.raises(ValueError, match="1-based"):
        sched().at(epoch)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(t_max=st.integers(1, 12), extra=st.integers(0, 30), mode=st.sampled_from(["even", "paper"]))
def test_phi_monotone_bounded_and_distinct_values(t_max, extra, mode):
    n = t_max + extra
    table = sched(t_max=t_max, n_epochs=n, schedule=mode, psi="const:0.5").table()
    phis = [x.phi for x in table]
    assert phis == sorted(phis) and max(phis) <= 1.0 and min(phis) >= 1 / t_max - 1e-12
    if mode == "even":
        assert len(set(phis)) == min(t_max, n)
        assert phis[0] == pytest.approx(1 / t_max) and phis[-1] == 1.0
