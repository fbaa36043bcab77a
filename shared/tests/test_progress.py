import io
import time

from papershelf.progress import RunProgress, format_seconds


def test_format_seconds():
    assert format_seconds(0) == "0:00"
    assert format_seconds(75.4) == "1:15"
    assert format_seconds(3720) == "1:02:00"


def test_estimate_scales_the_remaining_budget_by_the_pace_so_far():
    progress = RunProgress(total=3, budget_s=300.0, stream=io.StringIO(), heartbeat_s=0)
    assert progress.remaining_estimate() == 300.0
    progress.spent_budget_s = 100.0
    progress._start = time.perf_counter() - 50.0  # twice as fast as budgeted
    assert abs(progress.remaining_estimate() - 100.0) < 1.0


def test_heartbeat_prints_while_a_claim_runs_and_quiet_prints_nothing():
    stream = io.StringIO()
    progress = RunProgress(total=1, budget_s=1.0, stream=stream, heartbeat_s=0.05)
    progress.claim_started("toy", "slow", 1.0)
    time.sleep(0.2)
    progress._stop_heartbeat()
    assert "toy slow still running" in stream.getvalue()
    silent = io.StringIO()
    progress = RunProgress(total=1, budget_s=1.0, stream=silent, quiet=True, heartbeat_s=0.05)
    progress.claim_started("toy", "slow", 1.0)
    time.sleep(0.1)
    progress._stop_heartbeat()
    assert silent.getvalue() == ""
