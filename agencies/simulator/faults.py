"""Fault injection: what can go wrong between the gateway and an agency, on purpose.

500s, SOAP Server faults and malformed XML are decided BEFORE the message is processed (the
agency never saw it, so a retry is processed normally). A timeout is decided AFTER processing:
the agency did the work but the answer never reaches the gateway in time, so the gateway retries
a message the agency already processed — the duplicate case that MessageID dedup exists for.
Decisions come from one seeded ``random.Random``, so a run with ``seed`` set is reproducible.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

BeforeFault = Literal["http_500", "soap_fault", "malformed"]


@dataclass(frozen=True, slots=True)
class FaultConfig:
    latency_seconds: float = 0.0  # added to every SOAP request
    http_500_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0  # how long a "timed out" answer is held back
    malformed_rate: float = 0.0
    soap_fault_rate: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        rates = (self.http_500_rate, self.timeout_rate, self.malformed_rate, self.soap_fault_rate)
        if any(not 0.0 <= rate <= 1.0 for rate in rates):
            raise ValueError("fault rates must be between 0 and 1")
        if self.http_500_rate + self.soap_fault_rate + self.malformed_rate > 1.0:
            raise ValueError("http_500_rate + soap_fault_rate + malformed_rate must not exceed 1")
        if self.latency_seconds < 0 or self.timeout_seconds < 0:
            raise ValueError("latency_seconds and timeout_seconds must not be negative")


class FaultInjector:
    """Draws fault decisions for requests (thread-safe; deterministic with a seed)."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._random = random.Random(config.seed)
        self._lock = threading.Lock()

    def _draw(self) -> float:
        with self._lock:
            return self._random.random()

    def before_processing(self) -> BeforeFault | None:
        c = self.config
        if not (c.http_500_rate or c.soap_fault_rate or c.malformed_rate):
            return None
        roll = self._draw()
        if roll < c.http_500_rate:
            return "http_500"
        if roll < c.http_500_rate + c.soap_fault_rate:
            return "soap_fault"
        if roll < c.http_500_rate + c.soap_fault_rate + c.malformed_rate:
            return "malformed"
        return None

    def timeout_after_processing(self) -> bool:
        return bool(self.config.timeout_rate) and self._draw() < self.config.timeout_rate
