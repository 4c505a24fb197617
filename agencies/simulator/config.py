"""Simulator settings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from agencies.simulator.faults import FaultConfig


class AgencyRegistryLike(Protocol):
    """What the simulator needs of ``agencies.registry.AgencyRegistry``."""

    def get(self, code: str) -> Any: ...

    def codes(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class SimulatorConfig:
    # Base URL of the gateway for later dispositions; None: later answers are not sent.
    gateway_url: str | None
    # Bearer token for an agency's callbacks; None: no Authorization header.
    token_provider: Callable[[str], str] | None
    faults: FaultConfig
    registry: AgencyRegistryLike
    # agency code -> (username, password); an agency listed here requires a valid
    # WS-Security UsernameToken, agencies not listed accept unauthenticated requests.
    credentials: dict[str, tuple[str, str]] | None = None
    # Multiplies every SimulatedAnswer delay (0.01 makes a 60 s review take 0.6 s in tests).
    delay_scale: float = 1.0
    max_request_bytes: int = 5_000_000
    callback_max_attempts: int = 8
    callback_backoff_seconds: float = 0.5
