"""The hardened XML parser refuses every classic XML attack with a precise MalformedInput."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import MalformedInput
from gateway.xmlsafe import load_schema, parse_xml, validate

CAP = 1_000_000
DOCTYPE = "XML document type declarations are not allowed"


def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return path


def assert_refused(data: bytes, message: str, *, max_bytes: int = CAP) -> MalformedInput:
    with pytest.raises(MalformedInput) as caught:
        parse_xml(data, max_bytes=max_bytes)
    assert caught.value.detail == message or caught.value.detail.startswith(message)
    for text in (str(caught.value), repr(caught.value), caught.value.detail):
        assert "TOP-SECRET" not in text and "root:" not in text
    return caught.value


def test_parses_plain_xml() -> None:
    root = parse_xml(b'<?xml version="1.0"?><a xmlns="urn:x"><b>1</b></a>', max_bytes=CAP)
    assert root.tag == "{urn:x}a"
    assert root[0].text == "1"


def test_xxe_external_entity_is_refused(tmp_path: Path) -> None:
    for target in ("file:///etc/passwd", secret_file(tmp_path).as_uri()):
        data = (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{target}">]><r>&x;</r>'
        ).encode()
        assert_refused(data, DOCTYPE)


def test_billion_laughs_is_refused() -> None:
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    data = f'<?xml version="1.0"?><!DOCTYPE r [{entities}]><r>&l9;</r>'.encode()
    assert_refused(data, DOCTYPE)


def test_external_dtd_is_refused(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY x SYSTEM "' + secret_file(tmp_path).as_uri() + '">')
    data = f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{dtd.as_uri()}"><r>&x;</r>'.encode()
    assert_refused(data, DOCTYPE)
    remote = b'<!DOCTYPE r PUBLIC "-//X//Y" "http://127.0.0.1:9/evil.dtd"><r/>'
    assert_refused(remote, DOCTYPE)


def test_utf16_doctype_is_refused(tmp_path: Path) -> None:
    target = secret_file(tmp_path).as_uri()
    text = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r SYSTEM "{target}"><r/>'
    assert_refused(text.encode("utf-16"), DOCTYPE)


def test_oversized_body_is_refused_before_parsing() -> None:
    data = b"<r>" + b"x" * 2000 + b"</r>"
    assert_refused(data, "XML body is larger than 1000 bytes", max_bytes=1000)


def test_not_well_formed_names_the_error_and_position() -> None:
    error = assert_refused(b"<a>\n  <b></a>", "XML is not well-formed: ")
    assert "Opening and ending tag mismatch" in error.detail
    assert error.detail.endswith("(line 2, column 10)")


@pytest.mark.parametrize("data", [b"\x00\x01\x02garbage", b"hello world", b"", b"   "])
def test_non_xml_bytes_are_refused(data: bytes) -> None:
    error = assert_refused(data, "XML is not well-formed: ")
    assert "(line 1, column" in error.detail


def test_deep_nesting_bomb_is_refused() -> None:
    depth = 100_000
    data = b"<a>" * depth + b"</a>" * depth
    error = assert_refused(data, "XML is not well-formed: ")
    assert "depth" in error.detail.lower()


def test_validate_lists_every_error_with_its_line(tmp_path: Path) -> None:
    xsd = tmp_path / "s.xsd"
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:element name="r"><xs:complexType><xs:sequence>'
        '<xs:element name="n" type="xs:int" maxOccurs="unbounded"/>'
        "</xs:sequence></xs:complexType></xs:element></xs:schema>"
    )
    schema = load_schema(xsd)
    assert load_schema(str(xsd)) is schema  # compiled once
    assert validate(schema, parse_xml(b"<r><n>1</n></r>", max_bytes=CAP)) == []
    problems = validate(schema, parse_xml(b"<r>\n<n>x</n>\n<n>y</n>\n</r>", max_bytes=CAP))
    assert [p.location for p in problems] == ["line 2", "line 3"]
    assert all("not a valid value" in p.message for p in problems)
    assert isinstance(schema, etree.XMLSchema)
