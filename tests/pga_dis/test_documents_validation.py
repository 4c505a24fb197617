"""Magic-byte sniffing, CBP file-name rules, labels per agency, and the orphan sweep."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from pga_dis import validation
from pga_dis.service import new_object_key, sweep_orphans
from pga_dis.storage_fs import FilesystemObjectStore

from gateway.db.session import Database


def _office(member: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr(member, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"\xff\xd8\xff\xe0", "jpeg"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"GIF89a", "gif"),
        (b"MM\x00*", "tiff"),
        (_office("word/document.xml"), "docx"),
        (_office("xl/workbook.xml"), "xlsx"),
    ],
)
def test_sniff(head: bytes, name: str) -> None:
    found = validation.sniff(head)
    assert found is not None and found.name == name


def test_type_must_agree_with_name_and_channel() -> None:
    allowed = validation.parse_type_list("pdf,jpeg")
    _, problems = validation.check_content(b"II*\x00abc", "scan.pdf", allowed)
    messages = " ".join(p.message for p in problems)
    assert "TIFF" in messages and "does not accept" in messages and "says PDF" in messages
    assert validation.check_content(b"%PDF-1.4", "a.PDF", allowed)[1] == []
    assert validation.check_content(b"", "a.pdf", allowed)[1][0].code == "DIS-EMPTY"


@pytest.mark.parametrize(
    "name",
    [
        "o'brien.pdf",
        "a/b.pdf",
        "a\\b.pdf",
        "100%.pdf",
        "a&b.pdf",
        " a.pdf",
        "a.pdf ",
        "a  b.pdf",
        "noextension",
        "x" * 101 + ".pdf",
    ],
)
def test_cbp_file_name_rules(name: str) -> None:
    assert validation.check_file_name(name)


def test_labels_per_agency() -> None:
    codes = ["FDA", "EPA"]
    assert validation.check_agencies_and_label(["FDA"], "COMMERCIAL_INVOICE", codes) == []
    assert validation.check_agencies_and_label(["EPA"], "EPA_TSCA_CERTIFICATION", codes) == []
    wrong = validation.check_agencies_and_label(["FDA"], "EPA_TSCA_CERTIFICATION", codes)
    assert wrong and wrong[0].code == "DIS-LABEL"
    assert validation.check_agencies_and_label([], "COMMERCIAL_INVOICE", codes)
    assert validation.check_agencies_and_label(["FDA"] * 51, "COMMERCIAL_INVOICE", codes)


def test_sweep_deletes_only_old_unreferenced_objects(tmp_path: Path, database: Database) -> None:
    store = FilesystemObjectStore(tmp_path / "objects")
    old = "documents/0000000000001-" + "a" * 32
    store.put_stream(old, [b"%PDF-1.4"], content_type="application/pdf")
    young = new_object_key()
    store.put_stream(young, [b"%PDF-1.4"], content_type="application/pdf")
    assert sweep_orphans(database, store, dt.timedelta(hours=1)) == [old]
    assert store.list_keys("documents/") == [young]
