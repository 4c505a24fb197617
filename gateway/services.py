"""The process-wide service objects, built once at start-up and handed to every edge.

REST handlers, the SOAP edge, workers and the CLI all reach the same ``Services``; nothing
keeps state in module globals, so two apps (say, one per test database) can live in one
process.
"""

from __future__ import annotations

from dataclasses import dataclass

from pga_dis.service import DocumentService, sweep_orphans
from pga_dis.storage import store_from_settings

from agencies.registry import AgencyRegistry, load_registry
from gateway.auth.identity import IdentityStore
from gateway.auth.tokens import TokenIssuer, TokenVerifier, verifier_from_settings
from gateway.config import Settings
from gateway.db.session import Database
from gateway.dispatch_admin import DispatchAdmin
from gateway.dispositions import DispositionService
from gateway.intake import IntakeService
from gateway.queries import EntryQueries
from gateway.status import StatusService
from gateway.subscriptions import SubscriptionService


@dataclass
class Services:
    settings: Settings
    database: Database
    identity: IdentityStore
    issuer: TokenIssuer
    verifier: TokenVerifier
    registry: AgencyRegistry
    intake: IntakeService
    queries: EntryQueries
    dispositions: DispositionService
    dispatch_admin: DispatchAdmin
    status: StatusService
    documents: DocumentService
    subscriptions: SubscriptionService

    def agency_token(self, agency_code: str) -> str:
        """A bearer token for an embedded agency client (the simulator's callbacks)."""
        client_id, _ = self.identity.ensure_client("agency", agency_code)
        client = self.identity.find_client(client_id)
        assert client is not None  # ensure_client just created or found it
        token: str = self.issuer.issue(client)["access_token"]
        return token

    def close(self) -> None:
        self.database.dispose()


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Open the database (migrating it unless told not to), load identity and agency plugins.

    Plugins are loaded and checked here, so a broken plugin stops start-up with its name.
    """
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    registry = load_registry(settings.enabled_agencies)
    database = Database(settings.effective_database_url)
    if migrate:
        database.migrate()
    identity = IdentityStore.load_or_create(settings.effective_identity_file)
    store = store_from_settings(settings)
    if migrate:
        # Objects left by an upload that died before its row was committed (pga_dis.service).
        sweep_orphans(database, store)
    return Services(
        settings=settings,
        database=database,
        identity=identity,
        issuer=TokenIssuer(identity, settings),
        verifier=verifier_from_settings(settings, identity),
        registry=registry,
        intake=IntakeService(database, registry),
        queries=EntryQueries(database),
        dispositions=DispositionService(database),
        dispatch_admin=DispatchAdmin(database),
        status=StatusService(database),
        subscriptions=SubscriptionService(database),
        documents=DocumentService(database, store, registry, settings),
    )
