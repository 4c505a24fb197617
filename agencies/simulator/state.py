"""What the simulator remembers: processed MessageIDs (dedup) and counters, thread-safe.

``process_once`` is the only way into processing and holds the lock while it runs, so a
MessageID is processed at most once by construction; ``processed_twice`` is still counted
honestly (it would go up if processing were ever entered for an id already processed).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

COUNTERS = (
    "received",
    "processed",
    "duplicates_received",
    "processed_twice",
    "faults_injected",
    "rejected",
    "callbacks_scheduled",
    "callbacks_delivered",
    "callbacks_failed",
)


class SimulatorState:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._counters: dict[str, dict[str, int]] = {}
        self._answers: dict[tuple[str, str], Any] = {}
        self._entered: set[tuple[str, str]] = set()

    def count(self, agency: str, name: str, n: int = 1) -> None:
        with self._lock:
            counters = self._counters.setdefault(agency, dict.fromkeys(COUNTERS, 0))
            counters[name] += n

    def process_once(
        self, agency: str, message_id: str, process: Callable[[], T]
    ) -> tuple[T, bool]:
        """``(answer, duplicate)``: ``process()``'s answer, or the stored one for a repeat."""
        key = (agency, message_id.lower())
        with self._lock:
            if key in self._answers:
                self.count(agency, "duplicates_received")
                return self._answers[key], True
            if key in self._entered:
                self.count(agency, "processed_twice")
            self._entered.add(key)
            try:
                answer = process()
            except BaseException:
                self._entered.discard(key)  # not processed: a retry is processed normally
                raise
            self._answers[key] = answer
            self.count(agency, "processed")
            return answer, False

    def stats(self) -> dict[str, Any]:
        with self._lock:
            agencies = {code: dict(values) for code, values in sorted(self._counters.items())}
        total = {name: sum(values[name] for values in agencies.values()) for name in COUNTERS}
        return {"total": total, "agencies": agencies}

    def reset(self) -> None:
        with self._lock:
            self._counters.clear()
            self._answers.clear()
            self._entered.clear()
