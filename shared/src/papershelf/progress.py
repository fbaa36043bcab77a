"""What a person watching ``reproduce`` sees: a line when each claim starts and ends, the
overall position and an estimate of the time left, and a heartbeat during long claims.

Lines go to stderr so that stdout keeps only the final table. On a terminal the heartbeat
rewrites one status line; elsewhere (a CI log, a file) it prints a plain line every
``heartbeat_s`` seconds. ``quiet`` prints nothing.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO


def format_seconds(seconds: float) -> str:
    """``75.4`` -> ``"1:15"``; ``3720`` -> ``"1:02:00"``."""
    seconds = round(max(seconds, 0.0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class RunProgress:
    """Progress of a run of ``total`` claims whose quick budgets sum to ``budget_s``.

    The estimate of the time left scales the budgets of the claims still to run by how the
    finished claims compared with theirs.
    """

    total: int
    budget_s: float
    quiet: bool = False
    heartbeat_s: float = 30.0
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    done: int = 0
    spent_budget_s: float = 0.0
    _start: float = field(default_factory=time.perf_counter)
    _stop: threading.Event | None = None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def remaining_estimate(self) -> float:
        left = max(self.budget_s - self.spent_budget_s, 0.0)
        if self.spent_budget_s <= 0:
            return left
        return left * self.elapsed / self.spent_budget_s

    def _print(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def claim_started(self, paper_id: str, claim_id: str, budget_s: float) -> None:
        self._print(
            f"[{self.done + 1}/{self.total}] {paper_id} {claim_id}: running "
            f"(budget ~{format_seconds(budget_s)}; elapsed {format_seconds(self.elapsed)}, "
            f"~{format_seconds(self.remaining_estimate())} left)"
        )
        self._start_heartbeat(f"{paper_id} {claim_id}")

    def claim_finished(self, paper_id: str, record: dict[str, Any], budget_s: float) -> None:
        from papershelf.report import fmt, verdict

        self._stop_heartbeat()
        self.done += 1
        self.spent_budget_s += budget_s
        held = verdict(record)
        number = f"{record['metric']} = {fmt(record['ours'])}" if record["metric"] else ""
        if record["baseline"] is not None:
            number += f" vs {fmt(record['baseline'])}"
        why = record.get("reason") or record.get("error") or ""
        tail = f" ({why})" if held in ("inconclusive", "error") and why else ""
        self._print(
            f"[{self.done}/{self.total}] {paper_id} {record['id']}: {held}{tail}; {number} "
            f"in {format_seconds(record['wall_time_s'])}"
        )

    def finished(self) -> None:
        self._print(f"{self.done} claim(s) in {format_seconds(self.elapsed)}")

    def _start_heartbeat(self, label: str) -> None:
        if self.quiet or self.heartbeat_s <= 0:
            return
        self._stop = stop = threading.Event()
        started = time.perf_counter()

        def beat() -> None:
            while not stop.wait(self.heartbeat_s):
                print(
                    f"    ... {label} still running, {format_seconds(time.perf_counter() - started)}",
                    file=self.stream,
                    flush=True,
                )

        threading.Thread(target=beat, daemon=True).start()

    def _stop_heartbeat(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self._stop = None
