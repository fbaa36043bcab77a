"""Timing and peak memory, reported as ratios to a baseline measured in the same run.

Usage::

    from papershelf.bench import BenchReport, compare
    rows = compare({"lora": step_lora, "krona": step_krona}, baseline="lora", params={"d": 768})
    return BenchReport("KronA vs LoRA training step", rows)
"""

from __future__ import annotations

import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from papershelf.io import atomic_write_json, atomic_write_text
from papershelf.threads import allowed_cores


@dataclass
class Timing:
    """Wall times of repeated calls, in seconds."""

    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def _sync(device: str | None) -> None:
    if device and device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def time_callable(
    fn: Callable[[], Any], *, warmup: int = 2, repeats: int = 7, device: str | None = None
) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed (CUDA-synchronised)."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return Timing(times)


def time_round_robin(
    cases: dict[str, Callable[[], Any]],
    *,
    warmup: int = 2,
    repeats: int = 7,
    device: str | None = None,
) -> dict[str, Timing]:
    """Like :func:`time_callable` for several cases, timed in turn (one call of each per
    repeat), so that load drifting on a shared machine hits every case alike."""
    for _ in range(warmup):
        for fn in cases.values():
            fn()
    _sync(device)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - start)
    return {name: Timing(t) for name, t in times.items()}


def peak_memory_mb(fn: Callable[[], Any], *, device: str | None = None) -> float:
    """Peak memory of one call of ``fn``, in MiB above what was in use before it.

    On CUDA this is ``torch.cuda.max_memory_allocated``; on CPU it is the peak resident
    set size sampled every millisecond (an approximation, good for ratios).
    """
    if device and device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    import psutil

    proc = psutil.Process()
    before = proc.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.001)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join()
    peak = max(peak, proc.memory_info().rss)
    return (peak - before) / 2**20


@dataclass
class BenchRow:
    """One measured case. ``ratio`` is its median time over the baseline's."""

    name: str
    median_s: float
    ratio: float
    params: dict[str, Any] = field(default_factory=dict)
    peak_mem_mb: float | None = None
    mem_ratio: float | None = None


def compare(
    cases: dict[str, Callable[[], Any]],
    baseline: str,
    *,
    params: dict[str, Any] | None = None,
    warmup: int = 2,
    repeats: int = 7,
    memory: bool = False,
    device: str | None = None,
    round_robin: bool = False,
) -> list[BenchRow]:
    """Time every case (and optionally its peak memory) and divide by the baseline's.

    With ``round_robin`` the cases are timed in turn (:func:`time_round_robin`) instead of
    one after the other.
    """
    if baseline not in cases:
        raise ValueError(f"baseline: {baseline!r} is not one of the cases {list(cases)}")
    if round_robin:
        timings = time_round_robin(cases, warmup=warmup, repeats=repeats, device=device)
    else:
        timings = {
            n: time_callable(f, warmup=warmup, repeats=repeats, device=device)
            for n, f in cases.items()
        }
    medians = {n: t.median for n, t in timings.items()}
    mems = {n: peak_memory_mb(f, device=device) for n, f in cases.items()} if memory else {}
    rows = []
    for name in cases:
        mem_ratio = None
        if memory and mems[baseline] > 0:
            mem_ratio = mems[name] / mems[baseline]
        rows.append(
            BenchRow(
                name=name,
                median_s=medians[name],
                ratio=medians[name] / medians[baseline],
                params=dict(params or {}),
                peak_mem_mb=mems.get(name),
                mem_ratio=mem_ratio,
            )
        )
    return rows


def growth_exponent(sizes: list[float], seconds: list[float]) -> float:
    """The slope ``b`` of the least-squares line ``log t = a + b log n``: about 1 for a
    linear cost, 2 for a quadratic one. Needs two or more distinct positive sizes."""
    import math

    points = [
        (math.log(n), math.log(t)) for n, t in zip(sizes, seconds, strict=True) if n > 0 and t > 0
    ]
    if len({x for x, _ in points}) < 2:
        raise ValueError(
            "sizes: need at least two distinct positive sizes to fit a growth exponent"
        )
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def growth_notes(rows: list[BenchRow], size: str) -> list[str]:
    """One line per case: how its median time grows with the parameter ``size`` across the
    rows (e.g. ``"chunkwise: time ~ T^1.02 over T = 256..8192"``)."""
    notes = []
    for name in dict.fromkeys(r.name for r in rows):
        mine = [r for r in rows if r.name == name and size in r.params]
        sizes = [float(r.params[size]) for r in mine]
        if len(set(sizes)) < 2:
            continue
        exponent = growth_exponent(sizes, [r.median_s for r in mine])
        low, high = min(sizes), max(sizes)
        notes.append(f"{name}: time ~ {size}^{exponent:.2f} over {size} = {low:g}..{high:g}")
    return notes


def machine_description() -> str:
    """e.g. ``"x86_64, 2 CPU threads, torch 2.9.0 (cpu)"`` (the cores this process may use)."""
    text = f"{platform.machine()}, {allowed_cores()} CPU threads"
    try:
        import torch

        dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
        text += f", {torch.get_num_threads()} torch threads, torch {torch.__version__} ({dev})"
    except ImportError:
        pass
    return text


@dataclass
class BenchReport:
    """A titled table of ``BenchRow`` s with the baseline each ratio is against."""

    title: str
    rows: list[BenchRow]
    baseline: str = ""
    machine: str = field(default_factory=machine_description)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "baseline": self.baseline,
            "machine": self.machine,
            "notes": self.notes,
            "rows": [asdict(r) for r in self.rows],
        }

    def to_markdown(self) -> str:
        param_keys = list(dict.fromkeys(k for r in self.rows for k in r.params))
        mem = any(r.peak_mem_mb is not None for r in self.rows)
        head = ["case", *param_keys, "median ms", "time ratio"] + (
            ["peak MiB", "mem ratio"] if mem else []
        )
        lines = [
            f"**{self.title}** (baseline: {self.baseline or 'first case'}; {self.machine})",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]
        for r in self.rows:
            cells = [
                r.name,
                *(str(r.params.get(k, "")) for k in param_keys),
                f"{r.median_s * 1e3:.3g}",
                f"{r.ratio:.3g}",
            ]
            if mem:
                cells += [_num(r.peak_mem_mb), _num(r.mem_ratio)]
            lines.append("| " + " | ".join(cells) + " |")
        lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def print(self, console: Any) -> None:
        from rich.markdown import Markdown

        console.print(Markdown(self.to_markdown()))

    def save(self, folder: Path) -> None:
        atomic_write_json(Path(folder) / "bench.json", self.to_dict())
        atomic_write_text(Path(folder) / "bench.md", self.to_markdown())


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
