"""Later dispositions, POSTed back to the gateway's inbound REST endpoint when they fall due.

One daemon thread owns a due-time heap. Each job is one POST of the dispositions one agency
decided for one entry at one moment:

    POST {gateway_url}/api/v1/entries/{entry_number}/dispositions
    Authorization: Bearer <token_provider(agency)>     (asked for at send time: tokens expire)
    Idempotency-Key: <uuid, the same on every retry>    X-Correlation-ID: <request's>
    {"dispositions": [{"cbp_line_number", "pga_line_number", "status_code", "reason_code",
                       "action_time" (RFC 3339), "remark"}]}

Connection errors, timeouts, 5xx, 408 and 429 are retried with exponential backoff and jitter;
any other 4xx is final (counted as failed), so a wrong URL or token does not spin for ever.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from agencies.contract import Disposition

log = logging.getLogger(__name__)

_RETRYABLE_STATUS = frozenset({408, 429})


@dataclass(order=True)
class _Job:
    due: float  # time.monotonic()
    seq: int
    agency: str = field(compare=False)
    entry_number: str = field(compare=False)
    correlation_id: str = field(compare=False)
    body: dict[str, Any] = field(compare=False)
    key: str = field(compare=False)
    attempt: int = field(default=0, compare=False)


def disposition_json(d: Disposition) -> dict[str, Any]:
    return {
        "cbp_line_number": d.cbp_line_number,
        "pga_line_number": d.pga_line_number,
        "status_code": d.status_code,
        "reason_code": d.reason_code,
        "action_time": d.action_time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "remark": d.remark,
    }


class CallbackSender:
    def __init__(
        self,
        gateway_url: str,
        token_provider: Callable[[str], str] | None,
        on_outcome: Callable[[str, bool], None],
        *,
        max_attempts: int = 8,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        http_timeout: float = 10.0,
    ) -> None:
        self.gateway_url = gateway_url.rstrip("/")
        self.token_provider = token_provider
        self.on_outcome = on_outcome
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.http_timeout = http_timeout
        self._heap: list[_Job] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def schedule(
        self,
        agency: str,
        entry_number: str,
        correlation_id: str,
        dispositions: Sequence[Disposition],
        delay_seconds: float,
    ) -> None:
        body = {"dispositions": [disposition_json(d) for d in dispositions]}
        with self._cond:
            if self._closed:
                return
            self._seq += 1
            job = _Job(
                time.monotonic() + delay_seconds,
                self._seq,
                agency,
                entry_number,
                correlation_id,
                body,
                str(uuid.uuid4()),
            )
            heapq.heappush(self._heap, job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="agency-sim-callbacks", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _next_job(self) -> _Job | None:
        with self._cond:
            while not self._closed:
                if self._heap and self._heap[0].due <= time.monotonic():
                    return heapq.heappop(self._heap)
                wait = self._heap[0].due - time.monotonic() if self._heap else None
                self._cond.wait(wait)
            return None

    def _run(self) -> None:
        with httpx.Client(timeout=self.http_timeout) as client:
            while (job := self._next_job()) is not None:
                outcome = self._send(client, job)
                if outcome is None:  # retry later
                    job.attempt += 1
                    if job.attempt >= self.max_attempts:
                        self.on_outcome(job.agency, False)
                        continue
                    backoff = min(self.max_backoff_seconds, self.backoff_seconds * 2**job.attempt)
                    job.due = time.monotonic() + backoff * random.uniform(0.5, 1.0)
                    with self._cond:
                        heapq.heappush(self._heap, job)
                else:
                    self.on_outcome(job.agency, outcome)

    def _send(self, client: httpx.Client, job: _Job) -> bool | None:
        """True delivered, False refused for good, None retry."""
        url = f"{self.gateway_url}/api/v1/entries/{quote(job.entry_number, safe='')}/dispositions"
        headers = {"Idempotency-Key": job.key, "X-Correlation-ID": job.correlation_id}
        try:
            if self.token_provider is not None:
                headers["Authorization"] = f"Bearer {self.token_provider(job.agency)}"
            response = client.post(url, json=job.body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("disposition callback to %s failed: %s", url, exc)
            return None
        except Exception:  # a failing token provider must not kill the sender thread
            log.exception("disposition callback to %s: token provider failed", url)
            return None
        if response.is_success:
            return True
        if response.status_code >= 500 or response.status_code in _RETRYABLE_STATUS:
            log.warning("disposition callback to %s: HTTP %s", url, response.status_code)
            return None
        log.error("disposition callback to %s refused: HTTP %s", url, response.status_code)
        return False
