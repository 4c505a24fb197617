"""CBP DIS ``MessageEnvelope`` (namespace ``http://cbp.dhs.gov/DIS``): read submissions, write
``MessageValidationResponse`` and ``DocumentReviewResponse`` envelopes.

The envelope is parsed by the caller with ``gateway.xmlsafe.parse_xml`` and validated against
``wsdl/dis.xsd`` (CBP's schema); this module only walks the already-valid tree. Routing is on
the body payload element, never on ``MessageType`` (dis.md section 3).
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

DIS = "http://cbp.dhs.gov/DIS"
WSDL_DIR = Path(__file__).resolve().parents[2] / "wsdl"
XSD_PATH = WSDL_DIR / "dis.xsd"
WSDL_PATH = WSDL_DIR / "dis.wsdl"
GATEWAY_TRANSMITTER_ID = "PGAGW"


def q(name: str) -> str:
    return f"{{{DIS}}}{name}"


def _text(parent: etree._Element, path: str) -> str | None:
    found = parent.find(path, {"d": DIS})
    if found is None:
        return None
    return (found.text or "").strip()


@dataclass
class DisDocument:
    index: int
    document_id: str
    label: str
    file_name: str
    extension: str
    description: str | None
    agencies: list[str]
    cbp_line_numbers: list[int]
    content_b64: str | None  # None when DocumentObject is absent (DELETE)
    header: etree._Element = field(repr=False)

    def content(self) -> bytes:
        """The decoded file; ``ValueError`` when DocumentObject is not Base64."""
        text = "".join((self.content_b64 or "").split())
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("DocumentObject is not valid Base64") from None


@dataclass
class DisMessage:
    message_id: str
    preparer_id: str
    header: etree._Element = field(repr=False)
    payload: str = "DocumentSubmissionPackage"  # or DocumentWithdrawal
    action: str = "ADD"
    entries: list[tuple[str, str]] = field(default_factory=list)  # (EntryNumber, Filer)
    entry_line_numbers: list[int] = field(default_factory=list)
    trade_transaction: etree._Element | None = field(default=None, repr=False)
    documents: list[DisDocument] = field(default_factory=list)


def read_message(envelope: etree._Element) -> DisMessage:
    """The parts of a schema-valid ``MessageEnvelope`` the gateway acts on."""
    header = envelope.find(q("MessageHeader"))
    body = envelope.find(q("MessageBody"))
    assert header is not None and body is not None  # the schema requires both
    payload = next(c for c in body if isinstance(c.tag, str))
    message = DisMessage(
        message_id=_text(header, "d:MessageID") or "",
        preparer_id=_text(header, "d:PreparerID") or "",
        header=header,
        payload=etree.QName(payload).localname,
    )
    message.action = (_text(payload, "d:ActionCode") or "").upper()
    transaction = payload.find(q("TradeTransaction"))
    message.trade_transaction = transaction
    if transaction is not None:
        for kind in ("Entry", "EntrySummary"):
            for entry in transaction.findall(q(kind)):
                message.entries.append(
                    (_text(entry, "d:EntryNumber") or "", _text(entry, "d:Filer") or "")
                )
                line = _text(entry, "d:EntryLineNumber")
                if line and line.isdigit():
                    message.entry_line_numbers.append(int(line))
    if message.payload == "DocumentWithdrawal":
        message.action = "DELETE"
        doc_header = payload.find(q("DocumentHeader"))
        if doc_header is not None:
            message.documents.append(_document(0, doc_header, None))
        return message
    for index, data in enumerate(payload.findall(q("DocumentData"))):
        doc_header = data.find(q("DocumentHeader"))
        assert doc_header is not None
        message.documents.append(_document(index, doc_header, data))
    return message


def _document(index: int, header: etree._Element, data: etree._Element | None) -> DisDocument:
    agencies: list[str] = []
    lines: list[int] = []
    content: str | None = None
    if data is not None:
        agencies = [
            (a.text or "").strip().upper()
            for a in data.findall("d:GovtAgencyList/d:GovtAgency", {"d": DIS})
        ]
        for line in data.findall(".//d:CommodityData/d:EntryLineNumber", {"d": DIS}):
            text = (line.text or "").strip()
            if text.isdigit():
                lines.append(int(text))
        obj = data.find(q("DocumentObject"))
        content = None if obj is None else (obj.text or "")
    return DisDocument(
        index=index,
        document_id=_text(header, "d:DocumentID") or "",
        label=_text(header, "d:DocumentLabel") or "",
        file_name=(header.findtext(q("CompleteFileName")) or ""),
        extension=_text(header, "d:FileExtensionType") or "",
        description=_text(header, "d:DocumentDescription"),
        agencies=agencies,
        cbp_line_numbers=lines,
        content_b64=content,
        header=header,
    )


# -- answers ---------------------------------------------------------------------------------


@dataclass
class DocumentResult:
    header: etree._Element | None
    status: str  # PASSED | FAILED
    texts: list[str]


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, q(name))
    if text is not None:
        node.text = text
    return node


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _our_header(parent: etree._Element, message_type: str, to: etree._Element | None) -> None:
    header = _sub(parent, "MessageHeader")
    _sub(header, "MessageID", uuid.uuid4().hex)
    _sub(header, "MessageType", message_type)
    _sub(header, "SentDateTime", _now())
    _sub(header, "TransmitterID", GATEWAY_TRANSMITTER_ID)
    _sub(header, "TransmitterSiteCode", "0000")
    # Responses are routed on the preparer (dis.md 2.2): echo the submitter's.
    _sub(header, "PreparerID", (_text(to, "d:PreparerID") if to is not None else None) or "")
    _sub(
        header,
        "PreparerSiteCode",
        (_text(to, "d:PreparerSiteCode") if to is not None else None) or "",
    )


def _renamed_copy(element: etree._Element, name: str) -> etree._Element:
    clone = copy.deepcopy(element)
    clone.tag = q(name)
    return clone


def _result(
    parent: etree._Element, name: str, event: str, status: str, summary: str, texts: list[str]
) -> None:
    node = _sub(parent, name)
    _sub(node, "ProcessingEvent", event)
    _sub(node, "ProcessingStatus", status)
    _sub(node, "ProcessingStatusSummaryText", summary)
    for text in texts:
        _sub(node, "ProcessingLogText", text)


def validation_response(
    request_header: etree._Element,
    results: list[DocumentResult],
    *,
    message_texts: list[str] | None = None,
    trade_transaction: etree._Element | None = None,
) -> etree._Element:
    """A ``MessageEnvelope`` holding CBP's ``MessageValidationResponse`` for one submission."""
    passed = all(r.status == "PASSED" for r in results) and not message_texts
    status = "PASSED" if passed else "FAILED"
    env = etree.Element(q("MessageEnvelope"), nsmap={"DIS": DIS})
    _our_header(env, "DocumentValidationResponse", request_header)
    response = _sub(_sub(env, "MessageBody"), "MessageValidationResponse")
    level = _sub(response, "MessageLevelResult")
    level.append(_renamed_copy(request_header, "ProcessedMessageHeader"))
    summary = (
        "Submitted message received successfully. Ready for Review"
        if passed
        else "Message processing failed while validating DocumentData"
    )
    _result(
        level,
        "MessageProcessingResult",
        "INITIAL_VALIDATION",
        status,
        summary,
        list(message_texts or []),
    )
    for result in results or [DocumentResult(None, status, [])]:
        doc = _sub(response, "DocumentLevelResult")
        if result.header is not None:
            doc.append(_renamed_copy(result.header, "ProcessedDocumentHeader"))
        if trade_transaction is not None:
            doc.append(_renamed_copy(trade_transaction, "TradeTransaction"))
        text = (
            "No errors found for document"
            if result.status == "PASSED"
            else f"{len(result.texts)} error(s) in document"
        )
        _result(
            doc, "DocumentProcessingResult", "INITIAL_VALIDATION", result.status, text, result.texts
        )
    return env


def review_response(
    *,
    document_id: str,
    label: str,
    file_name: str,
    extension: str,
    entry_number: str,
    filer_code: str,
    status: str,
    reject_reason: str | None,
    comment: str | None,
) -> etree._Element:
    """A ``MessageEnvelope`` with a ``DocumentReviewResponse`` (CBP's shape) for the filer."""
    env = etree.Element(q("MessageEnvelope"), nsmap={"DIS": DIS})
    header = etree.Element(q("MessageHeader"))
    _sub(header, "PreparerID", filer_code)
    _sub(header, "PreparerSiteCode", "")
    _our_header(env, "DocumentReviewResponse", header)
    review = _sub(_sub(env, "MessageBody"), "DocumentReviewResponse")
    doc_header = _sub(review, "DocumentHeader")
    _sub(doc_header, "DocumentID", document_id)
    _sub(doc_header, "DocumentLabel", label)
    _sub(doc_header, "CompleteFileName", file_name)
    _sub(doc_header, "FileExtensionType", extension)
    transaction = _sub(review, "TradeTransaction")
    _sub(transaction, "TransactionCategory", "SINGLE_TXN")
    entry = _sub(transaction, "Entry")
    _sub(entry, "EntryNumber", entry_number[3:] if entry_number[:3] == filer_code else entry_number)
    _sub(entry, "Filer", filer_code)
    result = _sub(review, "DocumentReviewResult")
    _sub(result, "ProcessingEvent", "REVIEW")
    _sub(result, "DocumentReviewStatus", status)
    if comment:
        _sub(result, "DocumentReviewComment", comment)
    if reject_reason:
        _sub(result, "DocumentRejectReason", reject_reason)
    return env


def to_bytes(element: etree._Element) -> bytes:
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8"))
