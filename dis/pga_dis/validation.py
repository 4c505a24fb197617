"""Document checks that need no database: type by magic bytes, file names, sizes, labels.

Every check returns ``Problem`` objects (never raises), so callers report all of them at once.

- Type: sniffed from the first bytes (``sniff``), never trusted from the name; the file name's
  extension (and the DIS ``FileExtensionType``, when given) must name the same type.
- Names: CBP's ``CompleteFileName`` rules (no ``' / \\ % &``, no leading/trailing or double
  spaces) plus: 1-100 characters, printable, with an extension.
- Labels: ``data/labels.json``, per agency (loaded once).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from gateway.errors import Problem

SNIFF_BYTES = 8192
MAX_NAME_LENGTH = 100
MAX_AGENCIES = 50
FORBIDDEN_NAME_CHARACTERS = "'/\\%&"


@dataclass(frozen=True)
class FileType:
    name: str  # "pdf", "jpeg", ...
    media_type: str
    extensions: tuple[str, ...]


TYPES: dict[str, FileType] = {
    t.name: t
    for t in (
        FileType("pdf", "application/pdf", ("PDF",)),
        FileType("jpeg", "image/jpeg", ("JPG", "JPEG")),
        FileType("png", "image/png", ("PNG",)),
        FileType("gif", "image/gif", ("GIF",)),
        FileType("tiff", "image/tiff", ("TIF", "TIFF")),
        FileType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ("DOCX",),
        ),
        FileType(
            "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("XLSX",)
        ),
    )
}
_BY_EXTENSION = {ext: t for t in TYPES.values() for ext in t.extensions}


def parse_type_list(text: str) -> frozenset[str]:
    """``"pdf,jpeg"`` -> the known type names in it (unknown names are ignored)."""
    return frozenset(n.strip().lower() for n in text.split(",") if n.strip().lower() in TYPES)


def sniff(head: bytes) -> FileType | None:
    """The type whose signature ``head`` starts with, or ``None``.

    Office Open XML files are ZIP archives: a ZIP is DOCX if its first entries include
    ``word/``, XLSX if ``xl/``; the local file headers are read from ``head`` only.
    """
    if head.startswith(b"%PDF-"):
        return TYPES["pdf"]
    if head.startswith(b"\xff\xd8\xff"):
        return TYPES["jpeg"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return TYPES["png"]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return TYPES["gif"]
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return TYPES["tiff"]
    if head.startswith(b"PK\x03\x04"):
        return _office_type(head)
    return None


def _office_type(head: bytes) -> FileType | None:
    names = _zip_local_names(head)
    if any(n.startswith("word/") for n in names):
        return TYPES["docx"]
    if any(n.startswith("xl/") for n in names):
        return TYPES["xlsx"]
    try:  # small files: the whole archive may be in the head
        with zipfile.ZipFile(BytesIO(head)) as archive:
            listed = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if any(n.startswith("word/") for n in listed):
        return TYPES["docx"]
    if any(n.startswith("xl/") for n in listed):
        return TYPES["xlsx"]
    return None


def _zip_local_names(head: bytes) -> list[str]:
    names, offset = [], 0
    while head.startswith(b"PK\x03\x04", offset) and offset + 30 <= len(head):
        name_len = int.from_bytes(head[offset + 26 : offset + 28], "little")
        extra_len = int.from_bytes(head[offset + 28 : offset + 30], "little")
        compressed = int.from_bytes(head[offset + 18 : offset + 22], "little")
        flags = int.from_bytes(head[offset + 6 : offset + 8], "little")
        names.append(head[offset + 30 : offset + 30 + name_len].decode("utf-8", "replace"))
        if flags & 0x08:  # sizes follow the data: cannot walk further from the head alone
            break
        offset += 30 + name_len + extra_len + compressed
    return names


def extension_of(file_name: str) -> str:
    stem, dot, ext = file_name.rpartition(".")
    return ext.upper() if dot and stem else ""


def check_file_name(file_name: str, location: str = "file_name") -> list[Problem]:
    problems = []
    if not file_name:
        return [Problem("the file name is empty", code="DIS-NAME", location=location)]
    bad = sorted({c for c in file_name if c in FORBIDDEN_NAME_CHARACTERS})
    if bad:
        shown = " ".join(bad)
        problems.append(
            Problem(
                f"file name {file_name!r} contains characters CBP forbids: {shown}",
                code="DIS-NAME",
                location=location,
            )
        )
    if file_name != file_name.strip(" "):
        problems.append(
            Problem(
                f"file name {file_name!r} has leading or trailing spaces",
                code="DIS-NAME",
                location=location,
            )
        )
    if "  " in file_name:
        problems.append(
            Problem(
                f"file name {file_name!r} has double spaces", code="DIS-NAME", location=location
            )
        )
    if len(file_name) > MAX_NAME_LENGTH:
        problems.append(
            Problem(
                f"file name is {len(file_name)} characters; at most {MAX_NAME_LENGTH}",
                code="DIS-NAME",
                location=location,
            )
        )
    if not file_name.isprintable():
        problems.append(
            Problem("file name has control characters", code="DIS-NAME", location=location)
        )
    if not extension_of(file_name):
        problems.append(
            Problem(
                f"file name {file_name!r} has no extension (e.g. invoice.pdf)",
                code="DIS-NAME",
                location=location,
            )
        )
    return problems


def check_content(
    head: bytes,
    file_name: str,
    allowed: frozenset[str],
    *,
    declared_extension: str | None = None,
    location: str = "file",
) -> tuple[FileType | None, list[Problem]]:
    """Sniff ``head`` and check it against the allowed types and the name's extension."""
    if not head:
        return None, [Problem("the file is empty (0 bytes)", code="DIS-EMPTY", location=location)]
    found = sniff(head)
    problems = []
    if found is None:
        problems.append(
            Problem(
                "the content is not a recognised document type (by its first bytes); allowed: "
                + ", ".join(sorted(allowed)),
                code="DIS-TYPE",
                location=location,
            )
        )
        return None, problems
    if found.name not in allowed:
        problems.append(
            Problem(
                f"the content is {found.name.upper()}, which this channel does not accept "
                f"(allowed: {', '.join(sorted(allowed))})",
                code="DIS-TYPE",
                location=location,
            )
        )
    ext = extension_of(file_name)
    named = _BY_EXTENSION.get(ext)
    if ext and named is not found:
        problems.append(
            Problem(
                f"the file name says {ext} but the content is {found.name.upper()} "
                "(type is judged by content, and the two must agree)",
                code="DIS-TYPE",
                location=location,
            )
        )
    if declared_extension is not None:
        declared = declared_extension.strip().upper().lstrip(".")
        if _BY_EXTENSION.get(declared) is not found:
            problems.append(
                Problem(
                    f"FileExtensionType {declared_extension!r} does not match the content "
                    f"({found.name.upper()})",
                    code="DIS-TYPE",
                    location=location,
                )
            )
    return found, problems


def check_size(size: int, limit: int, location: str = "file") -> list[Problem]:
    if size > limit:
        return [
            Problem(
                f"the file is {size} bytes; the limit is {limit} bytes",
                code="DIS-SIZE",
                location=location,
            )
        ]
    return []


@cache
def label_table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (Path(__file__).parent / "data" / "labels.json").read_text("utf-8")
    )
    return data


def labels_for(agency_code: str) -> frozenset[str]:
    table = label_table()
    return frozenset(table["any_agency"]) | frozenset(table["agencies"].get(agency_code, []))


def check_agencies_and_label(
    agencies: Iterable[str], label: str, known_agencies: Iterable[str]
) -> list[Problem]:
    codes = list(agencies)
    known = set(known_agencies) | {"CBP"}
    problems = []
    if not 1 <= len(codes) <= MAX_AGENCIES:
        problems.append(
            Problem(
                f"name 1 to {MAX_AGENCIES} agencies (got {len(codes)})",
                code="DIS-AGENCY",
                location="agencies",
            )
        )
    if len(set(codes)) != len(codes):
        problems.append(Problem("an agency is named twice", code="DIS-AGENCY", location="agencies"))
    for i, code in enumerate(codes):
        if code not in known:
            problems.append(
                Problem(
                    f"unknown agency code {code!r} (known: {', '.join(sorted(known))})",
                    code="DIS-AGENCY",
                    location=f"agencies/{i}",
                )
            )
    if not label:
        problems.append(
            Problem("the document label is missing", code="DIS-LABEL", location="label")
        )
        return problems
    for code in codes:
        if code in known and label not in labels_for(code):
            problems.append(
                Problem(
                    f"document label {label!r} is not a label agency {code} accepts",
                    code="DIS-LABEL",
                    location="label",
                )
            )
    return problems
