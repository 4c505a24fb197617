"""Killing the gateway (SIGKILL) in the middle of an upload leaves no document row without its
object and no visible half object; a restart's orphan sweep tidies what is left."""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pga_dis.service import sweep_orphans
from pga_dis.storage import store_from_settings
from sqlalchemy import select

from bench.document_upload import (
    CHUNK,
    create_entry,
    gateway_process,
    pdf_chunks,
    upload_headers,
)
from gateway.config import Settings
from gateway.db.models import DocumentRow
from gateway.db.session import Database


def test_sigkill_mid_upload_leaves_no_row_without_object(
    tmp_path: Path, test_database_kind: str
) -> None:
    if test_database_kind != "sqlite":
        pytest.skip("the subprocess gateway runs on its own SQLite file")
    var = tmp_path / "var"
    sent = threading.Event()

    def slow() -> Iterator[bytes]:
        for i, chunk in enumerate(pdf_chunks(64 * CHUNK)):
            if i == 8:
                sent.set()
            time.sleep(0.02)
            yield chunk

    with gateway_process(var) as gateway:
        token = gateway.token()
        entry = create_entry(gateway, token)
        done = httpx.post(
            f"{gateway.url}/api/v1/documents",
            content=b"%PDF-1.4\nsmall\n",
            headers=upload_headers(token, entry, "KEPT-1"),
        )
        assert done.status_code == 201, done.text

        def upload() -> None:
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(
                    f"{gateway.url}/api/v1/documents",
                    content=slow(),
                    headers=upload_headers(token, entry, "KILLED-1"),
                    timeout=30,
                )

        thread = threading.Thread(target=upload)
        thread.start()
        assert sent.wait(30)
        gateway.process.send_signal(signal.SIGKILL)
        gateway.process.wait(10)
        thread.join(30)

    settings = Settings(var_dir=var)
    store = store_from_settings(settings)
    database = Database(settings.effective_database_url)
    try:
        with database.read() as session:
            rows = list(session.scalars(select(DocumentRow)))
        assert [r.document_id for r in rows] == ["KEPT-1"]
        keys = store.list_keys("documents/")
        for row in rows:
            stat = store.stat(row.object_key)
            assert stat is not None and stat.sha256 == row.sha256
        # No half object is visible: every listed object is complete and hash-checked.
        for key in keys:
            assert b"".join(store.open(key))
        assert keys == [rows[0].object_key]
        assert sweep_orphans(database, store, dt.timedelta(0)) == []
    finally:
        database.dispose()
