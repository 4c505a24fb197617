"""A throw-away PostgreSQL server for the test run, from Debian's ``postgresql`` package.

One server per process (pytest session): ``initdb`` into a temp dir, listen on 127.0.0.1 on a
free port (plus a unix socket in the temp dir), trust auth, fsync off. Stopped and deleted at
session end and, as a safety net, at interpreter exit.

initdb and postgres refuse to run as root, so under root the server binaries run as the
``postgres`` system user (created by the Debian package) through ``runuser`` (or ``su``).

Usage from any test or fixture::

    from tests.support.postgres import server_url, create_database, drop_database
    url = server_url()              # postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "postgres"
INSTALL_HINT = (
    "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin. "
    "`make test` installs Debian's postgresql package (make postgres-package); "
    "run it, or `apt-get install postgresql`, then re-run."
)


# Databases dropped together (see PostgresServer.retire_database); ~8 MB each on disk.
RETIRE_BATCH = 25


class PostgresHarnessError(RuntimeError):
    """The test PostgreSQL server could not be found, started or used."""


def find_bindir() -> Path:
    """The ``bin`` dir of the highest installed Debian PostgreSQL major version."""
    candidates = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bindir = Path(initdb).parent
        version = bindir.parent.name
        if (bindir / "pg_ctl").exists() and version.replace(".", "").isdigit():
            candidates.append((tuple(int(p) for p in version.split(".")), bindir))
    if not candidates:
        raise PostgresHarnessError(INSTALL_HINT)
    return max(candidates)[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One running ``postgres`` process owned by this test process."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="pga-gateway-pg-"))
        self.datadir = self.root / "data"
        self.socketdir = self.root / "sock"
        self.logfile = self.root / "server.log"
        self.port = 0
        self.running = False
        self._as_postgres = os.geteuid() == 0
        self._admin: psycopg.Connection[tuple[object, ...]] | None = None
        self._admin_lock = threading.Lock()
        self._retired: list[str] = []

    # -- process control ------------------------------------------------------------------
    def _run(self, *args: str) -> None:
        argv = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            if shutil.which("runuser"):
                argv = ["runuser", "-u", SUPERUSER, "--", *argv]
            else:
                argv = ["su", SUPERUSER, "-s", "/bin/sh", "-c", shlex.join(argv)]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=self.root, check=False)
        if done.returncode != 0:
            log = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
            raise PostgresHarnessError(
                f"{shlex.join(argv)} failed ({done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}\n{log[-4000:]}"
            )

    def start(self) -> None:
        self.socketdir.mkdir()
        if self._as_postgres:
            # The server runs as `postgres`: it must own its data, socket and log locations.
            for path in (self.root, self.socketdir):
                shutil.chown(path, user=SUPERUSER, group=None)
        self._run(
            "initdb",
            "--pgdata",
            str(self.datadir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
            "--no-instructions",
        )
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.socketdir}",
            # Throw-away data: skip durability for speed.
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c max_connections=200",
            "-c autovacuum=off",
        ]
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = _free_port()
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    "--pgdata",
                    str(self.datadir),
                    "--log",
                    str(self.logfile),
                    "--wait",
                    "--timeout",
                    "60",
                    "-o",
                    " ".join([f"-p {self.port}", *options]),
                )
                self.running = True
                return
            except PostgresHarnessError:
                if _attempt == 2:
                    raise

    def stop(self) -> None:
        with self._admin_lock:
            if self._admin is not None:
                self._admin.close()
                self._admin = None
        if self.running:
            self.running = False
            with contextlib.suppress(PostgresHarnessError):
                self._run("pg_ctl", "stop", "--pgdata", str(self.datadir), "-m", "immediate", "-w")
        shutil.rmtree(self.root, ignore_errors=True)

    # -- addresses and databases ----------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3) for ``dbname`` as the superuser over TCP."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname}"

    def execute(self, statement: sql.Composable) -> None:
        """Run one statement in autocommit mode (CREATE/DROP DATABASE need that).

        One admin connection is kept for the session: the first CREATE DATABASE in a new
        backend costs ~0.25 s, later ones ~20 ms.
        """
        with self._admin_lock:
            if self._admin is None or self._admin.closed:
                self._admin = psycopg.connect(self.conninfo(), autocommit=True)
            self._admin.execute(statement)

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a database (optionally copied from ``template``); returns its name."""
        name = name or f"test_{uuid.uuid4().hex}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        self.execute(statement)
        return name

    def retire_database(self, name: str) -> None:
        """Drop ``name`` soon: drops are batched because the first CREATE DATABASE after a
        DROP waits ~0.25 s for a checkpoint, which would otherwise be paid by every test."""
        with self._admin_lock:
            self._retired.append(name)
            batch = self._retired if len(self._retired) >= RETIRE_BATCH else []
            self._retired = [] if batch else self._retired
        for retired in batch:
            self.drop_database(retired)

    def drop_database(self, name: str) -> None:
        self.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


_lock = threading.Lock()
_server: PostgresServer | None = None


def session_server() -> PostgresServer:
    """The process-wide test server, started on first use (fails loudly if impossible)."""
    global _server
    with _lock:
        if _server is None:
            server = PostgresServer(find_bindir())
            atexit.register(server.stop)
            try:
                server.start()
            except BaseException:
                server.stop()
                raise
            _server = server
        return _server


def stop_session_server() -> None:
    """Stop the server if one was started (the pytest session fixture calls this)."""
    global _server
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None


def server_url(dbname: str = "postgres") -> str:
    """Raw URL of the session server (starting it if needed), e.g. for your own databases."""
    return session_server().url(dbname)


def create_database(name: str | None = None, *, template: str | None = None) -> str:
    """Create a database on the session server; returns its name (drop it when done)."""
    return session_server().create_database(name, template=template)


def drop_database(name: str) -> None:
    session_server().drop_database(name)
