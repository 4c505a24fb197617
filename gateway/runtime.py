"""Process assembly: the gateway API with its embedded simulator and dispatch workers
(``serve``), stand-alone ``worker`` processes, and the stand-alone ``agency-sim``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from typing import Any

from agencies.simulator import FaultConfig, SimulatorConfig, create_simulator_app
from gateway.agency_endpoints import ZeepAgencyTransport, configured_endpoints
from gateway.background_server import BackgroundServer
from gateway.dispatch import Dispatcher, RetryPolicy, WorkerPool
from gateway.errors import ConfigurationError
from gateway.notify import WebhookSender
from gateway.services import Services

log = logging.getLogger("gateway.runtime")


def parse_faults(spec: str) -> FaultConfig:
    """``"http_500_rate=0.1,timeout_rate=0.05,seed=7"`` -> FaultConfig (names checked)."""
    known = {f.name: f for f in fields(FaultConfig)}
    values: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, raw = part.partition("=")
        if name not in known or not raw:
            raise ConfigurationError(
                f"agency simulator faults: {part!r} (known: {', '.join(sorted(known))})"
            )
        try:
            values[name] = int(raw) if name == "seed" else float(raw)
        except ValueError:
            raise ConfigurationError(f"agency simulator faults: {part!r} is not a number") from None
    try:
        return FaultConfig(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"agency simulator faults: {exc}") from None


def retry_policy(services: Services) -> RetryPolicy:
    s = services.settings
    return RetryPolicy(
        max_attempts=s.dispatch_max_attempts,
        base_seconds=s.dispatch_backoff_base_ms / 1000,
        cap_seconds=s.dispatch_backoff_max_ms / 1000,
    )


class Loops:
    """One worker thread's jobs: agency dispatch, then filer webhooks."""

    def __init__(self, dispatcher: Dispatcher, sender: WebhookSender) -> None:
        self.dispatcher, self.sender = dispatcher, sender

    def run_once(self) -> int:
        return self.dispatcher.run_once() + self.sender.run_once()

    def close(self) -> None:
        self.sender.close()


def worker_pool(services: Services, simulator_url: str | None, threads: int) -> WorkerPool:
    endpoints = configured_endpoints(services.settings, services.registry.codes(), simulator_url)
    transport = ZeepAgencyTransport(endpoints)
    policy = retry_policy(services)
    timeout = services.settings.dispatch_timeout_ms / 1000
    # The lease outlives the longest possible call, so a live worker never loses its row.
    lease = 3 * timeout + 30

    def make() -> Loops:
        return Loops(
            Dispatcher(
                services.database, services.registry, transport, policy, lease_seconds=lease
            ),
            WebhookSender(services.database, policy, timeout=timeout, lease_seconds=lease),
        )

    return WorkerPool(make, threads, services.settings.dispatch_poll_ms / 1000)


def simulator_config(services: Services, gateway_url: str | None, faults: FaultConfig) -> Any:
    return SimulatorConfig(
        gateway_url=gateway_url,
        token_provider=services.agency_token,
        faults=faults,
        registry=services.registry,
    )


@dataclass
class Embedded:
    simulator_url: str | None
    pool: WorkerPool


@contextmanager
def embedded(services: Services, gateway_url: str) -> Iterator[Embedded]:
    """The simulator (unless real endpoints are configured) and the dispatch threads."""
    settings = services.settings
    with ExitStack() as stack:
        simulator_url = None
        if settings.agency_sim == "embedded" and not settings.agency_endpoints_file:
            app = create_simulator_app(
                simulator_config(services, gateway_url, parse_faults(settings.agency_sim_faults))
            )
            stack.callback(app.state.simulator.close)
            server = BackgroundServer(app, "127.0.0.1", settings.agency_sim_port)
            simulator_url = server.start()
            stack.callback(server.stop)
            log.info("agency simulator", extra={"url": simulator_url})
        pool = worker_pool(services, simulator_url, settings.dispatch_workers)
        pool.start()
        stack.callback(pool.stop)
        yield Embedded(simulator_url, pool)
