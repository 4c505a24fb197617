"""The object store for DIS document images: one interface, two backends.

``ObjectStore`` is what the rest of the gateway uses; ``store_from_settings`` /
``store_from_url`` pick the backend:

- ``file:///abs/dir`` or ``file://relative/dir`` — :mod:`pga_dis.storage_fs`, the embedded
  default (``./var/objects``): atomic writes (temp file in the same directory, fsync,
  ``os.replace``, fsync of the directory) and the SHA-256 kept in a fixed-size header of the
  object file itself, so content and hash always change together in one rename.
- ``s3://bucket/prefix`` — :mod:`pga_dis.storage_s3`, any S3-compatible store through boto3
  (AWS S3, MinIO, Ceph RGW): single PUT below the multipart threshold, otherwise a multipart
  upload (aborted on any failure); the SHA-256 is the object metadata ``sha256``.

Both backends hash while streaming, never hold a whole object in memory, enforce
``max_bytes`` (``PayloadTooLarge``; nothing is left behind), validate keys the same way
(:func:`validate_key`) and translate every third-party or OS error into the gateway's error
tree (``StorageUnavailable``, ``NotFound``, :class:`StorageCorrupt`) — botocore never leaks.

Reading: ``open()`` returns an iterator that verifies size and SHA-256 **after the last
chunk**. A mismatch raises :class:`StorageCorrupt` at that point, when the bytes have already
been handed out: a caller streaming to a client must treat that exception as an aborted
response (drop the connection / do not send a clean end of body) rather than a success.
``NotFound`` is raised by ``open()`` itself, before any chunk. Iterate the reader to the end or
``close()`` it (it is also a context manager) to release the file / HTTP connection promptly.
"""

from __future__ import annotations

import contextlib
import hashlib
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from gateway.errors import ClientError, ConfigurationError, ServerError

if TYPE_CHECKING:
    from gateway.config import Settings

MAX_KEY_LENGTH = 512
# One key segment becomes one file or directory name on the filesystem backend (plus a short
# suffix); keep it well under the usual 255-byte NAME_MAX.
MAX_SEGMENT_BYTES = 200
MAX_CONTENT_TYPE_LENGTH = 255
DEFAULT_CONTENT_TYPE = "application/octet-stream"
MIN_PART_SIZE = 5 << 20  # S3's smallest allowed non-final multipart part
# A first key segment reserved for the S3 backend's temp objects (refused for every backend,
# so both accept exactly the same keys).
TEMP_SEGMENT = ".pgatmp"


class StorageCorrupt(ServerError):
    """A stored object failed its integrity check: its content no longer matches the SHA-256
    (or size) recorded when it was written, or its stored metadata is unreadable.

    Raised by ``ObjectStore.open`` after the last chunk (see the module docstring: a response
    already streaming must be aborted). It means bit rot, tampering or an out-of-band write —
    an operator matter, never the caller's fault (500)."""

    title = "Stored object failed its integrity check"


class InvalidObjectKey(ClientError, ValueError):
    """An object key (or content type) the store refuses: empty, longer than 512 characters,
    absolute, with ``.``/``..`` or empty segments, backslashes or control characters, or
    starting with the reserved ``.pgatmp/``. Also a ``ValueError``."""

    title = "Invalid object key"


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str  # lowercase hex; "" only for an S3 object written without our metadata
    content_type: str


@runtime_checkable
class ObjectStore(Protocol):
    def put_stream(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str,
        max_bytes: int | None = None,
    ) -> StoredObject: ...

    def open(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]: ...

    def stat(self, key: str) -> StoredObject | None: ...

    def delete(self, key: str) -> None: ...

    def presigned_url(self, key: str, *, expires_seconds: int = 300) -> str | None: ...

    def list_keys(self, prefix: str = "") -> list[str]: ...

    def sweep_temp_files(self, older_than_seconds: float = 3600.0) -> int: ...


def validate_key(key: object) -> str:
    """Return ``key`` if it is a safe object key, else raise :class:`InvalidObjectKey`."""
    if not isinstance(key, str) or not key:
        raise InvalidObjectKey("object key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidObjectKey(f"object key longer than {MAX_KEY_LENGTH} characters")
    if "\\" in key:
        raise InvalidObjectKey("object key must not contain a backslash")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in key):
        raise InvalidObjectKey("object key must not contain control characters")
    if key.startswith("/"):
        raise InvalidObjectKey("object key must be relative (no leading '/')")
    segments = key.split("/")
    if segments[0] == TEMP_SEGMENT:
        raise InvalidObjectKey(f"object key must not start with the reserved {TEMP_SEGMENT!r}")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidObjectKey(
                "object key must not contain empty, '.' or '..' segments: " + repr(key)
            )
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidObjectKey(f"object key segment longer than {MAX_SEGMENT_BYTES} bytes")
    return key


def validate_prefix(prefix: object) -> str:
    """A ``list_keys`` prefix: a plain string filter on keys (no control characters)."""
    if not isinstance(prefix, str):
        raise InvalidObjectKey("key prefix must be a string")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in prefix) or "\\" in prefix:
        raise InvalidObjectKey("key prefix must not contain control characters or backslashes")
    return prefix


def validate_content_type(content_type: str) -> str:
    if not content_type:
        return DEFAULT_CONTENT_TYPE
    if len(content_type) > MAX_CONTENT_TYPE_LENGTH or not all(
        " " <= ch <= "~" for ch in content_type
    ):
        raise InvalidObjectKey(
            f"content type must be printable ASCII of at most {MAX_CONTENT_TYPE_LENGTH} chars"
        )
    return content_type


def iter_limited(chunks: Iterable[bytes], max_bytes: int | None, digest: Any) -> Iterator[bytes]:
    """Yield the non-empty chunks, updating ``digest``; ``PayloadTooLarge`` past ``max_bytes``."""
    from gateway.errors import PayloadTooLarge

    total = 0
    for chunk in chunks:
        if not chunk:
            continue
        data = bytes(chunk) if not isinstance(chunk, bytes) else chunk
        total += len(data)
        if max_bytes is not None and total > max_bytes:
            raise PayloadTooLarge(f"object larger than the limit of {max_bytes} bytes")
        digest.update(data)
        yield data


class VerifyingReader(Iterator[bytes]):
    """Iterator over an object's chunks that checks size and SHA-256 after the last one."""

    def __init__(
        self,
        key: str,
        chunks: Iterator[bytes],
        *,
        sha256: str,
        size: int,
        close: Callable[[], None],
    ) -> None:
        self.key = key
        self._chunks = chunks
        self._expected_sha256 = sha256
        self._expected_size = size
        self._close = close
        self._digest = hashlib.sha256()
        self._seen = 0
        self._finished = False

    def __iter__(self) -> VerifyingReader:
        return self

    def __next__(self) -> bytes:
        if self._finished:
            raise StopIteration
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self._finished = True
            self.close()
            self._verify()
            raise
        except BaseException:
            self._finished = True
            self.close()
            raise
        self._digest.update(chunk)
        self._seen += len(chunk)
        return chunk

    def _verify(self) -> None:
        if self._seen != self._expected_size:
            raise StorageCorrupt(
                f"object {self.key!r}: read {self._seen} bytes, {self._expected_size} recorded"
            )
        if not self._expected_sha256 or self._digest.hexdigest() != self._expected_sha256:
            raise StorageCorrupt(f"object {self.key!r}: content does not match its SHA-256")

    def close(self) -> None:
        close, self._close = self._close, _noop
        close()

    def __enter__(self) -> VerifyingReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # best effort at interpreter teardown
            self.close()


def _noop() -> None:
    return None


def store_from_url(
    url: str,
    *,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    path_style: bool = True,
    sse: str = "",
    kms_key_id: str = "",
    multipart_threshold: int = 8 << 20,
) -> ObjectStore:
    """Build a store from ``file:///abs/dir``, ``file://relative/dir`` or ``s3://bucket/prefix``.

    S3 credentials come from boto3's normal chain (environment, shared config, instance role),
    never from here. Raises ``ConfigurationError`` for an unusable URL or option.
    """
    if url.startswith("file://"):
        from pathlib import Path

        from pga_dis.storage_fs import FilesystemObjectStore

        path = url[len("file://") :]
        if not path:
            raise ConfigurationError("storage URL file:// needs a directory")
        return FilesystemObjectStore(Path(path))
    if url.startswith("s3://"):
        from pga_dis.storage_s3 import S3ObjectStore

        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not bucket:
            raise ConfigurationError(f"storage URL {url!r}: no bucket name")
        if sse not in ("", "AES256", "aws:kms"):
            raise ConfigurationError("storage SSE must be '', 'AES256' or 'aws:kms'")
        if kms_key_id and sse != "aws:kms":
            raise ConfigurationError("a storage KMS key id needs SSE 'aws:kms'")
        return S3ObjectStore(
            bucket,
            prefix,
            endpoint_url=endpoint_url or None,
            region=region,
            path_style=path_style,
            sse=sse,
            kms_key_id=kms_key_id,
            multipart_threshold=multipart_threshold,
        )
    scheme = url.partition(":")[0] if ":" in url else url
    raise ConfigurationError(f"storage URL scheme {scheme!r} not supported (use file:// or s3://)")


def store_from_settings(settings: Settings) -> ObjectStore:
    return store_from_url(
        settings.effective_storage_url,
        endpoint_url=settings.storage_endpoint_url or None,
        region=settings.storage_region,
        path_style=bool(settings.storage_path_style),
        sse=settings.storage_sse,
        kms_key_id=settings.storage_kms_key_id,
        multipart_threshold=settings.storage_multipart_threshold_bytes,
    )
