"""S3-compatible object store through boto3 (AWS S3, MinIO, Ceph RGW).

Key ``a/b.pdf`` under ``s3://bucket/prefix`` is the object ``prefix/a/b.pdf``; its SHA-256 is
the user metadata ``sha256`` (``x-amz-meta-sha256``).

Uploads buffer chunks up to the multipart threshold (default 8 MiB, at least S3's 5 MiB part
minimum). A stream that ends first is one ``PutObject`` with its metadata. A longer one is a
multipart upload, in parts of about the threshold (memory stays at about one part), to a temp
object ``prefix/.pgatmp/<uuid>``: multipart metadata is fixed at creation, before the hash is
known, so a server-side ``CopyObject`` (``MetadataDirective=REPLACE``) then publishes it under
the real key with its ``sha256`` and the temp object is deleted — the key never shows content
without its hash (up to 5 GiB, the CopyObject limit). Any failure (``PayloadTooLarge``, the
caller's iterator raising, a network error) aborts the multipart upload: no object, no billable
parts. S3 publishes only on a successful PUT/Copy, so an overwrite is atomic. The ``.pgatmp``
first segment is reserved (``validate_key`` refuses it) and never listed;
:meth:`S3ObjectStore.sweep_temp_files` removes what a crash left behind.

Credentials come only from boto3's normal chain (environment, shared config, instance/pod
role). Every botocore/urllib3 error is translated here: ``NotFound`` for a missing object, else
``StorageUnavailable`` naming the operation, S3 error code and endpoint (without userinfo) —
never credentials or the server's message (which may echo the access key id). Checksums are
sent only "when required", for S3-compatible stores lacking flexible checksums; integrity is
our SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Generator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, NoCredentialsError
from botocore.exceptions import ClientError as BotoClientError
from urllib3.exceptions import HTTPError as Urllib3Error

from gateway.errors import GatewayError, NotFound, PayloadTooLarge, StorageUnavailable
from pga_dis.storage import (
    MIN_PART_SIZE,
    TEMP_SEGMENT,
    StoredObject,
    VerifyingReader,
    iter_limited,
    validate_content_type,
    validate_key,
    validate_prefix,
)

log = logging.getLogger(__name__)

_TRANSPORT_ERRORS = (BotoCoreError, Urllib3Error, OSError)
_MISSING = ("NoSuchKey", "404", "NotFound")
MAX_COPY_BYTES = 5 << 30  # largest object one CopyObject can publish


class S3ObjectStore:
    """``ObjectStore`` on an S3 bucket (optionally under a key prefix)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        path_style: bool = True,
        sse: str = "",
        kms_key_id: str = "",
        multipart_threshold: int = 8 << 20,
        max_attempts: int = 3,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.part_size = max(int(multipart_threshold), MIN_PART_SIZE)
        self._endpoint_display = _without_userinfo(endpoint_url) if endpoint_url else "AWS S3"
        self._put_extra: dict[str, str] = {}
        if sse:
            self._put_extra["ServerSideEncryption"] = sse
        if kms_key_id:
            self._put_extra["SSEKMSKeyId"] = kms_key_id
        config = Config(
            signature_version="s3v4",
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            s3={"addressing_style": "path" if path_style else "virtual"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client: Any = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )

    def __repr__(self) -> str:
        return f"S3ObjectStore(s3://{self.bucket}/{self.prefix} at {self._endpoint_display})"

    def _object_key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    # -- writing -----------------------------------------------------------------------

    def put_stream(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str,
        max_bytes: int | None = None,
    ) -> StoredObject:
        name = self._object_key(key)
        content_type = validate_content_type(content_type)
        digest = hashlib.sha256()
        # One bytearray per part, handed to botocore as is (no join copy) and dropped right
        # after its upload, so memory stays at about one part whatever the object size.
        buffered = bytearray()
        size = 0
        temp = upload_id = ""
        parts: list[dict[str, Any]] = []
        try:
            for data in iter_limited(chunks, max_bytes, digest):
                buffered += data
                size += len(data)
                if size > MAX_COPY_BYTES:
                    raise PayloadTooLarge(f"object larger than the S3 limit of {MAX_COPY_BYTES}")
                if len(buffered) >= self.part_size:
                    if not upload_id:
                        temp, upload_id = self._start_multipart(key, content_type)
                    self._upload_part(key, temp, upload_id, parts, buffered)
                    buffered = bytearray()
            if upload_id:
                if buffered:
                    self._upload_part(key, temp, upload_id, parts, buffered)
                    buffered = bytearray()
                self._call(
                    "put",
                    key,
                    self._client.complete_multipart_upload,
                    Bucket=self.bucket,
                    Key=temp,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id:
                self._cleanup(
                    self._client.abort_multipart_upload,
                    Bucket=self.bucket,
                    Key=temp,
                    UploadId=upload_id,
                )
            raise
        stored = StoredObject(key, size, digest.hexdigest(), content_type)
        publish: dict[str, Any] = {"Bucket": self.bucket, "Key": name, **self._put_extra}
        publish.update(ContentType=content_type, Metadata={"sha256": stored.sha256})
        if not upload_id:
            self._call("put", key, self._client.put_object, Body=buffered, **publish)
            return stored
        # Multipart metadata is fixed at creation, before the hash is known: one server-side
        # copy publishes the temp object under the real key with its sha256, atomically.
        source = {"Bucket": self.bucket, "Key": temp}
        try:
            self._call(
                "put",
                key,
                self._client.copy_object,
                CopySource=source,
                MetadataDirective="REPLACE",
                **publish,
            )
        finally:
            self._cleanup(self._client.delete_object, Bucket=self.bucket, Key=temp)
        return stored

    def _start_multipart(self, key: str, content_type: str) -> tuple[str, str]:
        temp = f"{self.prefix}{TEMP_SEGMENT}/{uuid.uuid4().hex}"
        upload = self._call(
            "put",
            key,
            self._client.create_multipart_upload,
            Bucket=self.bucket,
            Key=temp,
            ContentType=content_type,
            **self._put_extra,
        )
        return temp, str(upload["UploadId"])

    def _upload_part(
        self, key: str, name: str, upload_id: str, parts: list[dict[str, Any]], body: bytearray
    ) -> None:
        number = len(parts) + 1
        answer = self._call(
            "put",
            key,
            self._client.upload_part,
            Bucket=self.bucket,
            Key=name,
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def _cleanup(self, method: Any, **kwargs: Any) -> None:
        """Best-effort removal of a temp object / multipart upload (the sweep retries it)."""
        try:
            method(**kwargs)
        except (BotoClientError, *_TRANSPORT_ERRORS) as exc:
            log.warning("object store cleanup of %s failed: %s", kwargs["Key"], type(exc).__name__)

    def delete(self, key: str) -> None:
        # DeleteObject succeeds for a missing key, so this is idempotent by itself.
        self._call(
            "delete", key, self._client.delete_object, Bucket=self.bucket, Key=self._object_key(key)
        )

    # -- reading -----------------------------------------------------------------------

    def stat(self, key: str) -> StoredObject | None:
        name = self._object_key(key)
        try:
            head = self._call("stat", key, self._client.head_object, Bucket=self.bucket, Key=name)
        except NotFound:
            return None
        return StoredObject(
            key,
            int(head["ContentLength"]),
            head.get("Metadata", {}).get("sha256", ""),
            head.get("ContentType", "") or "application/octet-stream",
        )

    def open(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        name = self._object_key(key)
        answer = self._call("read", key, self._client.get_object, Bucket=self.bucket, Key=name)
        body = answer["Body"]
        raw = self._read_chunks(body, key, max(1, chunk_size))

        def close() -> None:
            raw.close()
            body.close()

        return VerifyingReader(
            key,
            raw,
            sha256=answer.get("Metadata", {}).get("sha256", ""),
            size=int(answer["ContentLength"]),
            close=close,
        )

    def _read_chunks(self, body: Any, key: str, chunk_size: int) -> Generator[bytes, None, None]:
        try:
            yield from body.iter_chunks(chunk_size)
        except _TRANSPORT_ERRORS as exc:
            raise self._unavailable("read", key, exc) from None

    def presigned_url(self, key: str, *, expires_seconds: int = 300) -> str | None:
        name = self._object_key(key)
        try:
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": name},
                ExpiresIn=int(expires_seconds),
            )
        except (BotoClientError, *_TRANSPORT_ERRORS) as exc:
            raise self._unavailable("presign", key, exc) from None
        return url

    # -- listing and housekeeping ------------------------------------------------------

    def list_keys(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    relative = item["Key"][len(self.prefix) :]
                    if not relative.startswith(TEMP_SEGMENT + "/"):
                        keys.append(relative)
        except (BotoClientError, *_TRANSPORT_ERRORS) as exc:
            raise self._unavailable("list", prefix, exc) from None
        return sorted(keys)

    def sweep_temp_files(self, older_than_seconds: float = 3600.0) -> int:
        """Abort multipart uploads and delete temp objects older than the threshold (crash
        leftovers); returns how many were removed."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        aborted = 0
        paginator = self._client.get_paginator("list_multipart_uploads")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] <= cutoff:
                        self._client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted += 1
            temps = self._client.get_paginator("list_objects_v2")
            for page in temps.paginate(Bucket=self.bucket, Prefix=self.prefix + TEMP_SEGMENT + "/"):
                for item in page.get("Contents", []):
                    if item["LastModified"] <= cutoff:
                        self._client.delete_object(Bucket=self.bucket, Key=item["Key"])
                        aborted += 1
        except (BotoClientError, *_TRANSPORT_ERRORS) as exc:
            raise self._unavailable("sweep", "", exc) from None
        return aborted

    # -- error translation -------------------------------------------------------------

    def _call(self, action: str, key: str, method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except (BotoClientError, *_TRANSPORT_ERRORS) as exc:
            raise self._unavailable(action, key, exc) from None

    def _unavailable(self, action: str, key: str, exc: BaseException) -> GatewayError:
        where = f"s3://{self.bucket}/{self.prefix}{key} at {self._endpoint_display}"
        if isinstance(exc, BotoClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "unknown"))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            if code in _MISSING or (status == 404 and code != "NoSuchBucket"):
                return NotFound(f"object {key!r} not found")
            if code == "EntityTooLarge":
                return PayloadTooLarge(f"object store refused {key!r}: too large")
            reason = f"{code} (HTTP {status})"
        elif isinstance(exc, NoCredentialsError):
            reason = "no credentials found in boto3's credential chain"
        else:
            reason = type(exc).__name__
        return StorageUnavailable(f"object store {action} of {where} failed: {reason}")


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
