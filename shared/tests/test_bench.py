import time

import pytest
from papershelf.bench import BenchReport, compare, peak_memory_mb, time_callable, time_round_robin


def test_ratios_are_against_the_baseline():
    rows = compare(
        {"fast": lambda: time.sleep(0.01), "slow": lambda: time.sleep(0.05)},
        baseline="fast",
        params={"n": 1},
        warmup=1,
        repeats=3,
    )
    by_name = {r.name: r for r in rows}
    assert by_name["fast"].ratio == 1.0
    assert 2.5 < by_name["slow"].ratio < 10
    md = BenchReport("sleep", rows, baseline="fast").to_markdown()
    assert "| slow | 1 |" in md and "time ratio" in md


def test_unknown_baseline():
    with pytest.raises(ValueError, match="baseline"):
        compare({"a": lambda: None}, baseline="b")


def test_timing_repeats_and_memory():
    assert len(time_callable(lambda: None, warmup=0, repeats=4).times) == 4
    import numpy as np

    def hold_64_mib():
        block = np.ones(8 * 2**20)  # written, so resident (a calloc'd buffer may not be)
        time.sleep(0.05)  # the sampler looks every millisecond
        return block.sum()

    assert 50 < peak_memory_mb(hold_64_mib) < 200


def test_round_robin_times_the_cases_in_turn():
    calls = []
    cases = {name: (lambda name=name: calls.append(name)) for name in ("a", "b", "c")}
    timings = time_round_robin(cases, warmup=1, repeats=2)
    assert calls == ["a", "b", "c"] * 3
    assert {n: len(t.times) for n, t in timings.items()} == {"a": 2, "b": 2, "c": 2}
    rows = compare(
        {"fast": lambda: time.sleep(0.01), "slow": lambda: time.sleep(0.05)},
        baseline="fast",
        warmup=1,
        repeats=3,
        round_robin=True,
    )
    # 5x asleep; a loaded machine's wake-up delays (a few ms each) pull the ratio towards 1
    assert rows[0].ratio == 1.0 and 1.5 < rows[1].ratio < 10


def test_growth_exponent_recovers_known_powers():
    import pytest
    from papershelf.bench import BenchRow, growth_exponent, growth_notes

    sizes = [256, 512, 1024, 2048]
    assert growth_exponent(sizes, [1e-6 * n for n in sizes]) == pytest.approx(1.0)
    assert growth_exponent(sizes, [3e-9 * n**2 for n in sizes]) == pytest.approx(2.0)
    rows = [BenchRow("quad", 1e-9 * n**2, 1.0, {"T": n}) for n in sizes]
    rows += [BenchRow("lin", 1e-6 * n, 1.0, {"T": n}) for n in sizes]
    assert growth_notes(rows, "T") == [
        "quad: time ~ T^2.00 over T = 256..2048",
        "lin: time ~ T^1.00 over T = 256..2048",
    ]
    with pytest.raises(ValueError, match="two distinct"):
        growth_exponent([8, 8], [1.0, 2.0])
