"""SOAP 1.1 envelopes, faults, acknowledgements and WS-Security checks, built with lxml."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from agencies.contract import Disposition

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
IWS = "urn:pga-gateway:agency-iws:v1"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)

ErrorItem = tuple[str, str | None, str]  # (ErrorCode, ErrorLocation, ErrorDescription)


@dataclass
class SoapFault(Exception):
    """Raised while handling a request; rendered as a SOAP 1.1 Fault (HTTP 500)."""

    code: Literal["Client", "Server"]
    message: str
    errors: list[ErrorItem] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _child(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(IWS, name))
    if text is not None:
        element.text = text
    return element


def envelope(body_child: etree._Element) -> bytes:
    env = etree.Element(_q(SOAP_ENV, "Envelope"), nsmap={"soap": SOAP_ENV, "iws": IWS})
    etree.SubElement(env, _q(SOAP_ENV, "Body")).append(body_child)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def error_details_list(errors: Sequence[ErrorItem]) -> etree._Element:
    holder = etree.Element(_q(IWS, "ErrorDetailsList"), nsmap={"iws": IWS})
    for code, location, description in errors:
        item = _child(holder, "ErrorDetails")
        _child(item, "ErrorCode", code)
        if location:
            _child(item, "ErrorLocation", location[:1000])
        _child(item, "ErrorDescription", description[:1000])
    return holder


def fault(error: SoapFault) -> bytes:
    env = etree.Element(_q(SOAP_ENV, "Envelope"), nsmap={"soap": SOAP_ENV, "iws": IWS})
    body = etree.SubElement(env, _q(SOAP_ENV, "Body"))
    node = etree.SubElement(body, _q(SOAP_ENV, "Fault"))
    # SOAP 1.1 fault children are unqualified.
    etree.SubElement(node, "faultcode").text = f"soap:{error.code}"
    etree.SubElement(node, "faultstring").text = error.message
    if error.errors:
        etree.SubElement(node, "detail").append(error_details_list(error.errors))
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def _datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def acknowledgement(
    message_id: str,
    *,
    duplicate: bool,
    dispositions: Sequence[Disposition] = (),
    remark: str | None = None,
    errors: Sequence[ErrorItem] = (),
) -> etree._Element:
    ack = etree.Element(_q(IWS, "Acknowledgement"), nsmap={"iws": IWS})
    _child(ack, "MessageID", message_id)
    _child(ack, "ReturnCode", "FAILURE" if errors else "SUCCESS")
    if remark:
        _child(ack, "ReturnRemark", remark)
    _child(ack, "Duplicate", "true" if duplicate else "false")
    if errors:
        ack.append(error_details_list(errors))
    if dispositions:
        holder = _child(ack, "Dispositions")
        for d in dispositions:
            item = _child(holder, "Disposition")
            _child(item, "CBPLineNumber", str(d.cbp_line_number))
            _child(item, "PGALineNumber", str(d.pga_line_number))
            _child(item, "StatusCode", d.status_code)
            if d.reason_code:
                _child(item, "ReasonCode", d.reason_code)
            _child(item, "ActionTime", _datetime(d.action_time))
            if d.remark:
                _child(item, "Remark", d.remark)
    return ack


def split_envelope(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """``(Header or None, the Body's one payload element)``; Client fault otherwise."""
    if root.tag != _q(SOAP_ENV, "Envelope"):
        raise SoapFault("Client", "The request is not a SOAP 1.1 Envelope")
    header = root.find(_q(SOAP_ENV, "Header"))
    body = root.find(_q(SOAP_ENV, "Body"))
    payload = [] if body is None else [c for c in body if isinstance(c.tag, str)]
    if len(payload) != 1:
        raise SoapFault("Client", "The SOAP Body must hold exactly one request element")
    return header, payload[0]


def username_token_ok(header: etree._Element | None, username: str, password: str) -> bool:
    """WS-Security UsernameToken check (PasswordText or PasswordDigest), constant-time."""
    token = (
        None
        if header is None
        else header.find(f"{_q(WSSE, 'Security')}/{_q(WSSE, 'UsernameToken')}")
    )
    if token is None:
        return False
    given_user = token.findtext(_q(WSSE, "Username")) or ""
    password_node = token.find(_q(WSSE, "Password"))
    if password_node is None:
        return False
    given = (password_node.text or "").strip()
    if password_node.get("Type") == PASSWORD_DIGEST:
        try:
            nonce = base64.b64decode(token.findtext(_q(WSSE, "Nonce")) or "", validate=True)
        except ValueError:
            return False
        created = (token.findtext(_q(WSU, "Created")) or "").encode()
        digest = hashlib.sha1(nonce + created + password.encode()).digest()
        expected = base64.b64encode(digest).decode()
    else:
        expected = password
    user_ok = hmac.compare_digest(given_user.encode(), username.encode())
    return hmac.compare_digest(given.encode(), expected.encode()) and user_ok
