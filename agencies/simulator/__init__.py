"""The agency IWS simulator: every registered agency's SOAP endpoint, deterministic answers
from each plugin's ``simulate()``, MessageID dedup, fault injection and later dispositions
POSTed back to the gateway. See app.py for the routes."""

from agencies.simulator.app import Simulator, create_simulator_app, run_simulator
from agencies.simulator.config import SimulatorConfig
from agencies.simulator.faults import FaultConfig

__all__ = ["FaultConfig", "Simulator", "SimulatorConfig", "create_simulator_app", "run_simulator"]
