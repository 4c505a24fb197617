"""``/metrics``: Prometheus text exposition, no client library needed.

Request counts and latency sums come from this app instance (the correlation middleware
records each request into the ``RequestStats`` the app was built with); queue depths come
from the database at scrape time, so every API process reports the same backlog and nothing
is lost when one restarts.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gateway.api.context import SERVICES_SCOPE_KEY
from gateway.db.models import EntryRow, OutboxRow, WebhookDeliveryRow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class RequestStats:
    """Per-process request counters by method, route class and status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count: Counter[tuple[str, str, int]] = Counter()
        self._seconds: defaultdict[tuple[str, str, int], float] = defaultdict(float)

    def record(self, method: str, path: str, status: int, seconds: float) -> None:
        key = (method, _route_class(path), status)
        with self._lock:
            self._count[key] += 1
            self._seconds[key] += seconds

    def lines(self) -> list[str]:
        with self._lock:
            items = sorted(self._count.items())
            seconds = dict(self._seconds)
        out = [
            "# HELP pga_http_requests_total HTTP requests served by this process.",
            "# TYPE pga_http_requests_total counter",
        ]
        out += [
            f'pga_http_requests_total{{method="{m}",route="{r}",status="{s}"}} {n}'
            for (m, r, s), n in items
        ]
        out += [
            "# HELP pga_http_request_seconds_total Time spent serving those requests.",
            "# TYPE pga_http_request_seconds_total counter",
        ]
        out += [
            f'pga_http_request_seconds_total{{method="{m}",route="{r}",status="{s}"}} '
            f"{seconds[(m, r, s)]:.6f}"
            for (m, r, s), _ in items
        ]
        return out


STATS_SCOPE_KEY = "pga_gateway.request_stats"


def _route_class(path: str) -> str:
    """A bounded label: the first two path segments (never ids, so cardinality stays small)."""
    parts = [p for p in path.split("/") if p][:3]
    if parts[:2] == ["api", "v1"]:
        return "/" + "/".join(parts[:3])
    return "/" + (parts[0] if parts else "")


def _gauges(services: Any) -> list[str]:
    out: list[str] = []
    with services.database.read() as session:
        tables: list[tuple[str, str, Any]] = [
            ("pga_outbox_messages", "Agency messages by state.", OutboxRow),
            ("pga_webhook_deliveries", "Webhook deliveries by state.", WebhookDeliveryRow),
        ]
        for name, help_text, model in tables:
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            rows = session.execute(select(model.state, func.count()).group_by(model.state))
            out += [f'{name}{{state="{state}"}} {count}' for state, count in rows]
        out += ["# HELP pga_entries Entries by coordinated status.", "# TYPE pga_entries gauge"]
        rows = session.execute(select(EntryRow.status, func.count()).group_by(EntryRow.status))
        out += [f'pga_entries{{status="{status}"}} {count}' for status, count in rows]
    return out


async def metrics(request: Request) -> Response:
    services = request.scope[SERVICES_SCOPE_KEY]
    gauges = await run_in_threadpool(_gauges, services)
    stats: RequestStats = request.scope[STATS_SCOPE_KEY]
    body = "\n".join([*stats.lines(), *gauges]) + "\n"
    return Response(body, media_type=CONTENT_TYPE)
