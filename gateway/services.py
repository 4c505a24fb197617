"""The process-wide service objects, built once at start-up and handed to every edge.

REST handlers, the SOAP edge and the CLI all reach the same ``Services``; nothing keeps
state in module globals, so two apps (say, one per test database) can live in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth.identity import IdentityStore
from gateway.auth.tokens import TokenIssuer, TokenVerifier, verifier_from_settings
from gateway.config import Settings
from gateway.db.session import Database
from gateway.intake import IntakeService
from gateway.queries import EntryQueries


@dataclass
class Services:
    settings: Settings
    database: Database
    identity: IdentityStore
    issuer: TokenIssuer
    verifier: TokenVerifier
    intake: IntakeService
    queries: EntryQueries

    def close(self) -> None:
        self.database.dispose()


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Open the database (migrating it unless told not to) and load the identity file."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.effective_database_url)
    if migrate:
        database.migrate()
    identity = IdentityStore.load_or_create(settings.effective_identity_file)
    return Services(
        settings=settings,
        database=database,
        identity=identity,
        issuer=TokenIssuer(identity, settings),
        verifier=verifier_from_settings(settings, identity),
        intake=IntakeService(database),
        queries=EntryQueries(database),
    )
