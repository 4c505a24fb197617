"""REST handlers for ``/api/v1/documents``.

``GET``/``POST /api/v1/documents`` (list, upload) are plain Starlette routes: connexion's body
validators read whole bodies into memory, and an upload must stream. They are documented in
``openapi/gateway.yaml`` (``x-streaming-routes``), check the bearer token with the same
verifier, and answer problem+json like every other endpoint. The other document operations
are ordinary spec-first connexion operations (``operationId`` -> the functions at the end).

Streaming: the ASGI body is read chunk by chunk on the event loop and handed through a bounded
queue to a worker thread, which sniffs the type from the first bytes and streams the rest into
``ObjectStore.put_stream`` (hashing as it goes). At most ``QUEUE_CHUNKS`` chunks wait in memory,
whatever the file size. Multipart bodies are parsed incrementally (python-multipart's streaming
parser) on the worker thread; the ``metadata`` part must come before the ``file`` part.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import anyio
import python_multipart
from connexion.lifecycle import ConnexionResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from gateway.api.context import SERVICES_SCOPE_KEY, principal, services
from gateway.api.responses import PROBLEM_JSON, json_response, problem_body
from gateway.auth.principal import Principal
from gateway.errors import (
    AuthenticationFailed,
    GatewayError,
    MalformedInput,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from pga_dis.service import DocumentService, UploadRequest

QUEUE_CHUNKS = 8
MAX_METADATA_BYTES = 64 * 1024
MULTIPART_SLACK = 64 * 1024  # boundaries, part headers and metadata around the file
_END = object()

T = TypeVar("T")


def _documents(request: Request) -> DocumentService:
    documents: DocumentService = request.scope[SERVICES_SCOPE_KEY].documents
    return documents


def _authenticate(request: Request) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("send Authorization: Bearer <jwt>")
    verified: Principal = request.scope[SERVICES_SCOPE_KEY].verifier.verify(token.strip())
    return verified


def _problem(error: GatewayError, instance: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="pga-gateway"'} if error.http_status == 401 else {}
    return Response(problem_body(error, instance), error.http_status, headers, PROBLEM_JSON)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, headers, "application/json")


async def documents_collection(request: Request) -> Response:
    """``GET`` lists visible documents; ``POST`` uploads one (raw body or multipart)."""
    try:
        who = _authenticate(request)
        documents = _documents(request)
        if request.method == "GET":
            params = request.query_params
            page = await run_in_threadpool(
                documents.list,
                who,
                entry_number=params.get("entry_number"),
                history=params.get("history") in ("1", "true"),
            )
            return _json(200, page)
        view = await upload(request, who, documents)
        status = 200 if view.get("replayed") else 201
        return _json(status, view, {"Location": f"/api/v1/documents/{view['id']}"})
    except GatewayError as exc:
        return _problem(exc, request.url.path)


async def upload(request: Request, who: Principal, documents: DocumentService) -> dict[str, Any]:
    limit = documents._settings.document_max_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise PayloadTooLarge(
            f"the body is {declared} bytes; the document limit is {limit} bytes "
            "(PGA_GATEWAY_DOCUMENT_MAX_BYTES)"
        )
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        boundary = _boundary(request.headers.get("content-type", ""))
        return await stream_body(
            request, lambda raw: _multipart_upload(documents, who, boundary, raw)
        )
    if not media_type or media_type.startswith(("application/json", "text/")):
        raise UnsupportedMediaType(
            "upload the file as the raw body (Content-Type: its media type, metadata in "
            "X-Entry-Number, X-Agencies, X-Label, X-Document-Id, X-File-Name headers) or as "
            "multipart/form-data (parts 'metadata' JSON then 'file')"
        )
    meta = _metadata_from_headers(request)
    return await stream_body(request, lambda raw: documents.upload(who, meta, raw))


async def stream_body(request: Request, work: Callable[[Iterator[bytes]], T]) -> T:
    """Run ``work(chunks)`` on a worker thread while this coroutine feeds it the request body
    through a bounded queue; ``work``'s result or exception is returned or raised."""
    pipe: queue.Queue[object] = queue.Queue(maxsize=QUEUE_CHUNKS)
    done = threading.Event()

    def chunks() -> Iterator[bytes]:
        while True:
            item = pipe.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item

    def run() -> T:
        try:
            return work(chunks())
        finally:
            done.set()

    task = asyncio.ensure_future(run_in_threadpool(run))

    async def feed(item: object) -> None:
        while not done.is_set():
            try:
                pipe.put_nowait(item)
                return
            except queue.Full:
                try:
                    await anyio.to_thread.run_sync(pipe.put, item, True, 0.2)
                    return
                except queue.Full:
                    continue

    try:
        async for chunk in request.stream():
            if done.is_set():
                break
            if chunk:
                await feed(chunk)
        await feed(_END)
    except ClientDisconnect:
        await feed(MalformedInput("the upload was cut off: the client disconnected mid-body"))
    except BaseException:
        await feed(MalformedInput("the upload was interrupted"))
        await asyncio.shield(task) if not task.done() else None
        raise
    return await task


def _boundary(content_type: str) -> bytes:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value.strip('"'):
            return value.strip('"').encode("latin-1")
    raise MalformedInput("multipart/form-data without a boundary")


def _multipart_upload(
    documents: DocumentService, who: Principal, boundary: bytes, raw: Iterator[bytes]
) -> dict[str, Any]:
    reader = MultipartReader(boundary, raw)
    meta_headers = reader.next_part()
    if meta_headers.get("name") != "metadata":
        raise MalformedInput("the first multipart part must be 'metadata' (JSON), then 'file'")
    text = b"".join(reader.part_data(MAX_METADATA_BYTES))
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise MalformedInput(f"metadata is not JSON: {exc}") from None
    file_headers = reader.next_part()
    if file_headers.get("name") != "file":
        raise MalformedInput("the second multipart part must be 'file'")
    request = _metadata_from_json(meta, file_headers.get("filename"))
    return documents.upload(who, request, reader.part_data(None, require_end=True))


class MultipartReader:
    """Pull-style wrapper over python-multipart's push parser: parts and their data as they
    arrive; never holds more than one raw chunk's worth of data."""

    def __init__(self, boundary: bytes, raw: Iterator[bytes]) -> None:
        self._raw = raw
        self._events: list[tuple[str, Any]] = []
        self._field = b""
        self._value = b""
        self._headers: dict[bytes, bytes] = {}
        callbacks: Any = {
            "on_part_begin": lambda: self._headers.clear(),
            "on_header_field": lambda d, s, e: self._add("field", d[s:e]),
            "on_header_value": lambda d, s, e: self._add("value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": lambda: self._events.append(("headers", dict(self._headers))),
            "on_part_data": lambda d, s, e: self._events.append(("data", bytes(d[s:e]))),
            "on_part_end": lambda: self._events.append(("end", None)),
        }
        self._parser = python_multipart.MultipartParser(boundary, callbacks)
        self._finished = False

    def _add(self, which: str, data: bytes) -> None:
        if which == "field":
            self._field += bytes(data)
        else:
            self._value += bytes(data)
        if len(self._field) + len(self._value) > 8192:
            raise MalformedInput("a multipart part header is too long")

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def _event(self) -> tuple[str, Any]:
        while not self._events:
            if self._finished:
                raise MalformedInput("the multipart body is truncated (no closing boundary)")
            chunk = next(self._raw, None)
            if chunk is None:
                self._finished = True
                continue
            try:
                self._parser.write(chunk)
            except python_multipart.exceptions.MultipartParseError as exc:
                raise MalformedInput(f"malformed multipart body: {exc}") from None
        return self._events.pop(0)

    def next_part(self) -> dict[str, str]:
        while True:
            kind, value = self._event()
            if kind == "headers":
                return _disposition(value)

    def part_data(self, limit: int | None, *, require_end: bool = False) -> Iterator[bytes]:
        size = 0
        while True:
            kind, value = self._event()
            if kind == "end":
                return
            if kind == "data":
                size += len(value)
                if limit is not None and size > limit:
                    raise MalformedInput(f"the metadata part is over {limit} bytes")
                yield value


def _disposition(headers: dict[bytes, bytes]) -> dict[str, str]:
    raw = headers.get(b"content-disposition", b"").decode("utf-8", "replace")
    out: dict[str, str] = {}
    for param in raw.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        out[name.lower()] = value.strip().strip('"')
    return out


def _ints(text: str, what: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise MalformedInput(f"{what}: give comma-separated numbers") from None


def _refs(text: str) -> list[dict[str, int]]:
    refs = []
    for item in (v.strip() for v in text.split(",")):
        if not item:
            continue
        cbp, _, pga = item.partition(":")
        if not (cbp.isdigit() and pga.isdigit()):
            raise MalformedInput("X-PGA-Line-Refs: give CBPLINE:PGALINE pairs, e.g. 1:1,2:1")
        refs.append({"cbp_line_number": int(cbp), "pga_line_number": int(pga)})
    return refs


def _metadata_from_headers(request: Request) -> UploadRequest:
    h = request.headers
    missing = [
        n
        for n in ("x-entry-number", "x-agencies", "x-label", "x-document-id", "x-file-name")
        if not h.get(n)
    ]
    if missing:
        raise MalformedInput("missing metadata header(s): " + ", ".join(missing))
    return UploadRequest(
        entry_number=h["x-entry-number"],
        agencies=[a.strip().upper() for a in h["x-agencies"].split(",") if a.strip()],
        label=h["x-label"].strip(),
        document_id=h["x-document-id"].strip(),
        file_name=h["x-file-name"],
        description=h.get("x-description"),
        cbp_line_numbers=_ints(h.get("x-entry-line-numbers", ""), "X-Entry-Line-Numbers"),
        pga_line_refs=_refs(h.get("x-pga-line-refs", "")),
        action=h.get("x-action", "ADD").strip().upper(),
        channel="rest",
    )


def _metadata_from_json(meta: Any, part_file_name: str | None) -> UploadRequest:
    if not isinstance(meta, dict):
        raise MalformedInput("metadata must be a JSON object")

    def text(name: str, required: bool = True) -> str | None:
        value = meta.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise MalformedInput(f"metadata.{name} must be a string")
        return value

    agencies = meta.get("agencies")
    if not isinstance(agencies, list) or not all(isinstance(a, str) for a in agencies):
        raise MalformedInput("metadata.agencies must be a list of agency codes")
    lines = meta.get("entry_line_numbers", [])
    refs = meta.get("pga_line_refs", [])
    if not isinstance(lines, list) or not all(isinstance(v, int) for v in lines):
        raise MalformedInput("metadata.entry_line_numbers must be a list of integers")
    if not isinstance(refs, list) or not all(
        isinstance(r, dict)
        and isinstance(r.get("cbp_line_number"), int)
        and isinstance(r.get("pga_line_number"), int)
        for r in refs
    ):
        raise MalformedInput(
            "metadata.pga_line_refs must be a list of {cbp_line_number, pga_line_number}"
        )
    file_name = meta.get("file_name", part_file_name)
    if not isinstance(file_name, str):
        raise MalformedInput("give metadata.file_name or a filename on the file part")
    return UploadRequest(
        entry_number=text("entry_number") or "",
        agencies=[a.strip().upper() for a in agencies],
        label=(text("label") or "").strip(),
        document_id=(text("document_id") or "").strip(),
        file_name=file_name,
        description=text("description", required=False),
        cbp_line_numbers=lines,
        pga_line_refs=[
            {"cbp_line_number": r["cbp_line_number"], "pga_line_number": r["pga_line_number"]}
            for r in refs
        ],
        action=(text("action", required=False) or "ADD").upper(),
        channel="rest",
    )


# -- connexion operations (openapi/gateway.yaml) ------------------------------------------------


def get_document(document_id: str) -> ConnexionResponse:
    return json_response(200, services().documents.get(principal(), document_id))


def withdraw_document(document_id: str) -> ConnexionResponse:
    view = services().documents.withdraw(principal(), document_id)
    return json_response(200, {**view, "state": "withdrawn"})


def review_document(document_id: str, body: dict[str, Any]) -> ConnexionResponse:
    result = services().documents.review(
        principal(),
        document_id,
        status=body.get("status", ""),
        reject_reason=body.get("reject_reason"),
        comment=body.get("comment"),
    )
    return json_response(200, result)


async def get_document_content(document_id: str, presigned: bool = False) -> Any:
    documents = services().documents
    who = principal()
    if presigned:
        url = await run_in_threadpool(documents.presigned_url, who, document_id)
        if url is None:
            raise MalformedInput(
                "presigned URLs exist only on an S3 object store; GET without ?presigned"
            )
        return json_response(200, {"url": url, "expires_in": 300})
    info, chunks = await run_in_threadpool(documents.open_content, who, document_id)
    return StreamingResponse(
        chunks,
        media_type=info["media_type"],
        headers={
            "Content-Length": str(info["size_bytes"]),
            "Content-Disposition": f'attachment; filename="{info["file_name"]}"',
            "X-Content-SHA256": info["sha256"],
        },
    )
