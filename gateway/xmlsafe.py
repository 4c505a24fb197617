"""THE hardened XML parser of the gateway, and schema validation on top of it.

Every XML document the gateway reads (SOAP requests, DIS envelopes, agency answers we parse
ourselves, WSDL served by the simulator) goes through ``parse_xml``:

- the size cap is checked before a single byte is parsed;
- any document type declaration is rejected outright — with no DTD there are no entities, so
  XXE (``file://``/``http://`` entities), entity bombs ("billion laughs") and external DTD
  fetches are impossible, not merely disabled;
- the lxml parser itself is configured defensively as well (no entity resolution, no network,
  no DTD loading/validation, no ``huge_tree`` so libxml2 keeps its depth and text-size limits);
- every failure is a ``MalformedInput`` with a precise message; nothing from the document's
  referenced resources can end up in it because nothing referenced is ever read.

``load_schema`` compiles trusted local XSD files once per process; ``validate`` returns every
schema error located by line.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from lxml import etree

from gateway.errors import MalformedInput, Problem

__all__ = ["load_schema", "parse_xml", "validate"]

DOCTYPE_MESSAGE = "XML document type declarations are not allowed"

# "<!DOCTYPE" in the encodings a document can start in. The authoritative check is the
# post-parse docinfo check below; this scan only refuses the obvious case before libxml2 has
# to look at a DTD at all.
_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


def _parser() -> etree.XMLParser:
    # A fresh parser per document: lxml parsers are not meant to be shared between threads,
    # and a parser's error log would otherwise carry errors of earlier documents.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def parse_xml(data: bytes, *, max_bytes: int) -> etree._Element:
    """The root element of ``data``; ``MalformedInput`` for anything unsafe or unparseable."""
    if len(data) > max_bytes:
        raise MalformedInput(f"XML body is larger than {max_bytes} bytes")
    if not data.strip():
        raise MalformedInput("XML is not well-formed: the body is empty (line 1, column 1)")
    if any(marker in data for marker in _DOCTYPE_MARKERS):
        raise MalformedInput(DOCTYPE_MESSAGE)
    parser = _parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedInput(_syntax_message(exc, parser.error_log)) from None
    if root is None:  # lxml returns None for some recover-mode inputs; never trust it
        raise MalformedInput("XML is not well-formed: no root element (line 1, column 1)")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise MalformedInput(DOCTYPE_MESSAGE)
    return root


def _syntax_message(exc: etree.XMLSyntaxError, log: etree._ListErrorLog) -> str:
    # The parser's own log holds only this document's errors (the exception's log is
    # thread-global and may still hold earlier documents' errors); the first is the cause.
    errors = [e for e in log if e.level >= etree.ErrorLevels.ERROR]
    if errors:
        first = errors[0]
        message, line, column = first.message, first.line, first.column
    else:
        message, line, column = str(exc.msg), exc.lineno or 1, (exc.offset or 0) + 1
    if "DOCTYPE" in message or "DTD" in message:
        # Whatever libxml2 complained about in a DTD, the answer is the same.
        return DOCTYPE_MESSAGE
    return f"XML is not well-formed: {message.strip()} (line {line}, column {column})"


# Compiled schemas and one lock each: an XMLSchema keeps its error log on the object, so two
# threads validating with the same schema at once would mix their errors.
_SCHEMA_LOCKS: dict[int, threading.Lock] = {}
_FALLBACK_LOCK = threading.Lock()


@cache
def _compile(path: str) -> etree.XMLSchema:
    # Schemas are trusted files shipped with the gateway; they are still read with the
    # hardened parser settings (and never contain a DOCTYPE). parse() keeps the base URL so
    # xs:include/xs:import with relative schemaLocation resolve next to the file.
    tree = etree.parse(path, _parser())
    if tree.docinfo.doctype:
        raise MalformedInput(f"{path}: {DOCTYPE_MESSAGE}")
    schema = etree.XMLSchema(tree)
    _SCHEMA_LOCKS[id(schema)] = threading.Lock()
    return schema


def load_schema(path: str | Path) -> etree.XMLSchema:
    """The compiled XSD at ``path`` (compiled once per process)."""
    return _compile(str(Path(path).resolve()))


def validate(schema: etree.XMLSchema, element: etree._Element) -> list[Problem]:
    """Every schema error for ``element`` (validated as a document root), located by line."""
    with _SCHEMA_LOCKS.get(id(schema), _FALLBACK_LOCK):
        if schema.validate(element):
            return []
        errors = list(schema.error_log)
    return [Problem(message=error.message, location=f"line {error.line}") for error in errors]
