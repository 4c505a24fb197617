"""Object-store conformance: every test runs against the filesystem store (tmp_path) and the
S3 store (boto3 against moto's S3 server over HTTP), unless it names one backend."""

from __future__ import annotations

import hashlib
import os
import socket
import stat as stat_mod
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from pga_dis.storage import (
    InvalidObjectKey,
    ObjectStore,
    StorageCorrupt,
    StoredObject,
    store_from_settings,
    store_from_url,
)
from pga_dis.storage_fs import HEADER_SIZE, FilesystemObjectStore
from pga_dis.storage_s3 import S3ObjectStore

from gateway.config import Settings, load_settings
from gateway.errors import (
    ClientError,
    ConfigurationError,
    NotFound,
    PayloadTooLarge,
    StorageUnavailable,
)
from tests.pga_dis.conftest import TEST_ACCESS_KEY_ID, TEST_BUCKET, TEST_SECRET_ACCESS_KEY

MiB = 1 << 20


@dataclass
class Backend:
    kind: str
    store: ObjectStore
    tamper: Callable[[str, bytes], None]  # replace content, keep the recorded hash
    leftovers: Callable[[], list[str]]  # temp files / pending multipart uploads
    raw: Any = None  # boto3 client (s3 only)


@pytest.fixture(params=["fs", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "fs":
        root = tmp_path / "objects"
        fs = FilesystemObjectStore(root)

        def tamper_fs(key: str, data: bytes) -> None:
            path = fs._path_for(key)
            header = path.read_bytes()[:HEADER_SIZE]
            path.write_bytes(header + data)

        def leftovers_fs() -> list[str]:
            return [str(p) for p in root.rglob("*") if p.is_file() and p.suffix != ".obj"]

        yield Backend("fs", fs, tamper_fs, leftovers_fs)
        return

    endpoint = request.getfixturevalue("s3_endpoint")
    prefix = f"t-{uuid.uuid4().hex}"
    s3 = store_from_url(f"s3://{TEST_BUCKET}/{prefix}", endpoint_url=endpoint)
    raw = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def tamper_s3(key: str, data: bytes) -> None:
        name = f"{prefix}/{key}"
        head = raw.head_object(Bucket=TEST_BUCKET, Key=name)
        raw.put_object(Bucket=TEST_BUCKET, Key=name, Body=data, Metadata=head["Metadata"])

    def leftovers_s3() -> list[str]:
        uploads = raw.list_multipart_uploads(Bucket=TEST_BUCKET, Prefix=prefix)
        temps = raw.list_objects_v2(Bucket=TEST_BUCKET, Prefix=f"{prefix}/.pgatmp/")
        return [u["Key"] for u in uploads.get("Uploads", [])] + [
            o["Key"] for o in temps.get("Contents", [])
        ]

    yield Backend("s3", s3, tamper_s3, leftovers_s3, raw)
    raw.close()


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read_all(store: ObjectStore, key: str, chunk_size: int = 1 << 20) -> bytes:
    return b"".join(store.open(key, chunk_size=chunk_size))


def count_upload_parts(store: ObjectStore) -> list[int]:
    calls: list[int] = []
    assert isinstance(store, S3ObjectStore)
    store._client.meta.events.register(
        "before-parameter-build.s3.UploadPart",
        lambda **kw: calls.append(kw["params"]["PartNumber"]),
    )
    return calls


# -- round trip --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 1000, 20 * MiB], ids=["empty", "1B", "1000B", "20MiB"])
def test_round_trip(backend: Backend, size: int) -> None:
    data = os.urandom(size)
    parts = count_upload_parts(backend.store) if backend.kind == "s3" else []
    stored = backend.store.put_stream(
        "docs/entry-1/scan.pdf", chunked(data), content_type="application/pdf"
    )
    expected = StoredObject(
        "docs/entry-1/scan.pdf", size, hashlib.sha256(data).hexdigest(), "application/pdf"
    )
    assert stored == expected
    assert backend.store.stat("docs/entry-1/scan.pdf") == expected
    assert read_all(backend.store, "docs/entry-1/scan.pdf") == data
    assert read_all(backend.store, "docs/entry-1/scan.pdf", chunk_size=7777) == data
    assert backend.store.list_keys() == ["docs/entry-1/scan.pdf"]
    if backend.kind == "s3" and size > 8 * MiB:
        assert parts == [1, 2, 3]  # a real multipart upload of ~8 MiB parts
    assert backend.leftovers() == []


def test_stat_missing_is_none_and_open_missing_is_not_found(backend: Backend) -> None:
    assert backend.store.stat("nope/missing.pdf") is None
    with pytest.raises(NotFound):
        backend.store.open("nope/missing.pdf")  # raised by open() itself, before iterating


def test_default_content_type_and_bytearray_chunks(backend: Backend) -> None:
    stored = backend.store.put_stream(
        "a", [bytearray(b"ab"), b"", memoryview(b"c")], content_type=""
    )
    assert stored.content_type == "application/octet-stream"
    assert read_all(backend.store, "a") == b"abc"


def test_nested_keys_and_prefix_listing(backend: Backend) -> None:
    for key in ("a", "a/b", "a/b/c.pdf", "b.obj/x", "b", "z/.hidden"):
        backend.store.put_stream(key, [key.encode()], content_type="text/plain")
    assert backend.store.list_keys() == sorted(
        ["a", "a/b", "a/b/c.pdf", "b.obj/x", "b", "z/.hidden"]
    )
    assert backend.store.list_keys("a/") == ["a/b", "a/b/c.pdf"]
    assert backend.store.list_keys("a/b") == ["a/b", "a/b/c.pdf"]
    assert backend.store.list_keys("b") == ["b", "b.obj/x"]
    assert backend.store.list_keys("q/") == []
    for key in ("a", "a/b", "a/b/c.pdf", "b.obj/x", "b", "z/.hidden"):
        assert read_all(backend.store, key) == key.encode()


# -- limits and failures leave nothing ---------------------------------------------------


@pytest.mark.parametrize("size", [2000, 12 * MiB], ids=["small", "multipart"])
def test_max_bytes_exceeded_leaves_nothing(backend: Backend, size: int) -> None:
    with pytest.raises(PayloadTooLarge):
        backend.store.put_stream(
            "big", chunked(os.urandom(size), MiB), content_type="x/y", max_bytes=size - 1
        )
    assert backend.store.list_keys() == []
    assert backend.store.stat("big") is None
    assert backend.leftovers() == []
    stored = backend.store.put_stream("ok", [b"x" * 100], content_type="x/y", max_bytes=100)
    assert stored.size == 100


class ClientGone(Exception):
    pass


def failing_stream(good_bytes: int) -> Iterator[bytes]:
    sent = 0
    while sent < good_bytes:
        yield b"\x5a" * MiB
        sent += MiB
    raise ClientGone("client disconnected")


@pytest.mark.parametrize("good", [MiB, 17 * MiB], ids=["small", "multipart"])
def test_iterator_error_leaves_nothing(backend: Backend, good: int) -> None:
    with pytest.raises(ClientGone):
        backend.store.put_stream("doc", failing_stream(good), content_type="x/y")
    assert backend.store.list_keys() == []
    assert backend.store.stat("doc") is None
    assert backend.leftovers() == []


def test_overwrite_is_atomic(backend: Backend) -> None:
    v1 = os.urandom(3 * MiB)
    v2 = os.urandom(2 * MiB)
    backend.store.put_stream("k", chunked(v1), content_type="application/pdf")
    # A failed overwrite keeps the old version whole.
    with pytest.raises(ClientGone):
        backend.store.put_stream("k", failing_stream(2 * MiB), content_type="image/png")
    assert read_all(backend.store, "k") == v1
    assert backend.store.stat("k") == StoredObject(
        "k", len(v1), hashlib.sha256(v1).hexdigest(), "application/pdf"
    )
    # A reader that started before an overwrite finishes on a consistent version.
    reader = backend.store.open("k", chunk_size=64 * 1024)
    first = next(reader)
    backend.store.put_stream("k", chunked(v2), content_type="image/png")
    assert first + b"".join(reader) == v1
    assert read_all(backend.store, "k") == v2
    assert backend.store.stat("k") == StoredObject(
        "k", len(v2), hashlib.sha256(v2).hexdigest(), "image/png"
    )
    assert backend.store.list_keys() == ["k"]


# -- integrity ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "replacement", [b"Y" * 5000, b"X" * 4999, b"X" * 5001], ids=["flipped", "short", "long"]
)
def test_corrupted_content_raises_after_last_chunk(backend: Backend, replacement: bytes) -> None:
    backend.store.put_stream("c", [b"X" * 5000], content_type="x/y")
    backend.tamper("c", replacement)
    reader = backend.store.open("c", chunk_size=1000)
    received = b""
    with pytest.raises(StorageCorrupt):
        for chunk in reader:
            received += chunk
    assert received == replacement  # every byte was handed out before the verdict
    assert StorageCorrupt.http_status == 500


def test_delete_is_idempotent(backend: Backend) -> None:
    backend.store.put_stream("d/x", [b"1"], content_type="x/y")
    backend.store.delete("d/x")
    backend.store.delete("d/x")
    backend.store.delete("never/existed")
    assert backend.store.stat("d/x") is None
    assert backend.store.list_keys() == []


BAD_KEYS = [
    "",
    "/etc/passwd",
    "../escape",
    "a/../../escape",
    "a/./b",
    ".",
    "..",
    "a//b",
    "a/",
    "a\\..\\b",
    "a\x00b",
    "a\nb",
    "a\x7fb",
    "x" * 513,
    "s" * 201 + "/x",
    ".pgatmp/x",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_path_trick_keys_rejected(backend: Backend, key: str, tmp_path: Path) -> None:
    before = sorted(tmp_path.parent.rglob("*"))
    for call in (
        lambda: backend.store.put_stream(key, [b"pwned"], content_type="x/y"),
        lambda: backend.store.open(key),
        lambda: backend.store.stat(key),
        lambda: backend.store.delete(key),
        lambda: backend.store.presigned_url(key),
    ):
        with pytest.raises(InvalidObjectKey) as info:
            call()
        assert isinstance(info.value, ValueError) and isinstance(info.value, ClientError)
    assert backend.store.list_keys() == []
    assert sorted(tmp_path.parent.rglob("*")) == before


def test_longest_key_accepted(backend: Backend) -> None:
    key = "/".join(["s" * 127] * 4)
    assert len(key) == 511
    backend.store.put_stream(key, [b"ok"], content_type="x/y")
    assert backend.store.list_keys() == [key]


def test_bad_content_type_rejected(backend: Backend) -> None:
    with pytest.raises(InvalidObjectKey):
        backend.store.put_stream("k", [b"x"], content_type="text/plain\r\nX-Evil: 1")
    assert backend.store.list_keys() == []


# -- memory ------------------------------------------------------------------------------


def test_put_and_read_64_mib_in_bounded_memory(backend: Backend) -> None:
    backend.store.put_stream("warm-up", [b"x"], content_type="x/y")  # load botocore models
    read_all(backend.store, "warm-up")
    block = os.urandom(MiB)
    total = 64 * MiB

    def generate() -> Iterator[bytes]:
        for i in range(total // MiB):
            yield bytes([i]) + block[1:]

    tracemalloc.start()
    try:
        stored = backend.store.put_stream("big", generate(), content_type="x/y")
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        for chunk in backend.store.open("big"):
            digest.update(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == total
    assert digest.hexdigest() == stored.sha256
    assert put_peak < 24 * MiB, put_peak
    assert read_peak < 24 * MiB, read_peak


# -- presigned URLs ----------------------------------------------------------------------


def test_presigned_url(backend: Backend) -> None:
    data = os.urandom(4096)
    backend.store.put_stream("p/doc.pdf", [data], content_type="application/pdf")
    url = backend.store.presigned_url("p/doc.pdf", expires_seconds=60)
    if backend.kind == "fs":
        assert url is None
        return
    assert url is not None and "X-Amz-Signature=" in url
    assert TEST_SECRET_ACCESS_KEY not in url
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "application/pdf"


# -- crash leftovers ---------------------------------------------------------------------


def test_sweep_removes_only_stale_temp_files(backend: Backend) -> None:
    backend.store.put_stream("keep/me", [b"1"], content_type="x/y")
    if isinstance(backend.store, FilesystemObjectStore):
        directory = backend.store._path_for("keep/me").parent
        stale = directory / ".pgatmp-abc123.partial"
        fresh = directory / ".pgatmp-def456.partial"
        stale.write_bytes(b"half")
        fresh.write_bytes(b"half")
        old = time.time() - 7200
        os.utime(stale, (old, old))
        assert backend.store.list_keys() == ["keep/me"]
        assert backend.store.sweep_temp_files(3600) == 1
        assert not stale.exists() and fresh.exists()
        assert backend.store.sweep_temp_files(-60) == 1
    else:
        assert isinstance(backend.store, S3ObjectStore)
        temp = f"{backend.store.prefix}.pgatmp/crashed"
        backend.raw.create_multipart_upload(Bucket=TEST_BUCKET, Key=temp)
        backend.raw.put_object(Bucket=TEST_BUCKET, Key=temp + "-copy", Body=b"half")
        assert backend.store.list_keys() == ["keep/me"]
        # moto reports every multipart upload as initiated in 2010, so the upload is "stale"
        # at once; the temp object has a real LastModified and survives until it ages.
        assert backend.store.sweep_temp_files(3600) == 1
        assert backend.leftovers() == [temp + "-copy"]
        assert backend.store.sweep_temp_files(-60) == 1
    assert backend.leftovers() == []
    assert backend.store.list_keys() == ["keep/me"]


# -- backend specifics -------------------------------------------------------------------


def test_fs_permissions_and_layout(tmp_path: Path) -> None:
    store = FilesystemObjectStore(tmp_path / "objects")
    store.put_stream("a/b/c.pdf", [b"%PDF"], content_type="application/pdf")
    path = tmp_path / "objects" / "a.d" / "b.d" / "c.pdf.obj"
    assert stat_mod.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (path.parent, path.parent.parent, tmp_path / "objects"):
        assert stat_mod.S_IMODE(directory.stat().st_mode) == 0o700
    assert path.read_bytes()[HEADER_SIZE:] == b"%PDF"


def test_fs_damaged_header_is_corrupt(tmp_path: Path) -> None:
    store = FilesystemObjectStore(tmp_path)
    store.put_stream("h", [b"data"], content_type="x/y")
    store._path_for("h").write_bytes(b"garbage")
    with pytest.raises(StorageCorrupt):
        store.stat("h")
    with pytest.raises(StorageCorrupt):
        store.open("h")


def test_fs_unwritable_root_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    store = FilesystemObjectStore(blocker / "objects")
    with pytest.raises(StorageUnavailable):
        store.put_stream("k", [b"x"], content_type="x/y")


def test_s3_server_side_encryption(s3_endpoint: str) -> None:
    store = store_from_url(
        f"s3://{TEST_BUCKET}/sse-{uuid.uuid4().hex}", endpoint_url=s3_endpoint, sse="AES256"
    )
    assert isinstance(store, S3ObjectStore)
    store.put_stream("small", [b"x"], content_type="x/y")
    store.put_stream("large", chunked(os.urandom(9 * MiB), MiB), content_type="x/y")
    raw = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    for key in ("small", "large"):
        head = raw.head_object(Bucket=TEST_BUCKET, Key=store.prefix + key)
        assert head["ServerSideEncryption"] == "AES256"
        assert len(head["Metadata"]["sha256"]) == 64
    raw.close()


def test_s3_object_without_our_metadata_is_corrupt_on_read(s3_endpoint: str) -> None:
    prefix = f"foreign-{uuid.uuid4().hex}"
    raw = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    raw.put_object(Bucket=TEST_BUCKET, Key=f"{prefix}/k", Body=b"abc")
    raw.close()
    store = store_from_url(f"s3://{TEST_BUCKET}/{prefix}", endpoint_url=s3_endpoint)
    found = store.stat("k")
    assert found is not None and found.sha256 == "" and found.size == 3
    with pytest.raises(StorageCorrupt):
        read_all(store, "k")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_s3_endpoint_down_is_unavailable_without_credentials(aws_env: None) -> None:
    store = S3ObjectStore(
        TEST_BUCKET, "p", endpoint_url=f"http://127.0.0.1:{_closed_port()}", max_attempts=1
    )
    for call in (
        lambda: store.put_stream("k", [b"x"], content_type="x/y"),
        lambda: store.put_stream("k", chunked(os.urandom(9 * MiB), MiB), content_type="x/y"),
        lambda: store.open("k"),
        lambda: store.stat("k"),
        lambda: store.delete("k"),
        lambda: store.list_keys(),
        lambda: store.sweep_temp_files(),
    ):
        with pytest.raises(StorageUnavailable) as info:
            call()
        message = str(info.value)
        assert info.value.http_status == 503
        assert "127.0.0.1" in message
        assert TEST_ACCESS_KEY_ID not in message and TEST_SECRET_ACCESS_KEY not in message
        assert info.value.__cause__ is None and info.value.__suppress_context__


def test_s3_missing_bucket_is_unavailable(s3_endpoint: str) -> None:
    store = store_from_url("s3://no-such-bucket-pga/x", endpoint_url=s3_endpoint)
    with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
        store.put_stream("k", [b"x"], content_type="x/y")
    with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
        store.open("k")


def test_s3_wrong_secret_is_unavailable_without_credentials(s3_endpoint: str) -> None:
    store = store_from_url(f"s3://{TEST_BUCKET}/x", endpoint_url=s3_endpoint)
    assert isinstance(store, S3ObjectStore)
    # moto accepts any credentials; check the translation of a signature failure directly.
    from botocore.exceptions import ClientError as BotoClientError

    error = BotoClientError(
        {
            "Error": {
                "Code": "SignatureDoesNotMatch",
                "Message": f"AWSAccessKeyId {TEST_ACCESS_KEY_ID} ... {TEST_SECRET_ACCESS_KEY}",
            },
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "PutObject",
    )
    translated = store._unavailable("put", "k", error)
    assert isinstance(translated, StorageUnavailable)
    assert "SignatureDoesNotMatch" in str(translated)
    assert TEST_ACCESS_KEY_ID not in str(translated)
    assert TEST_SECRET_ACCESS_KEY not in str(translated)


# -- construction ------------------------------------------------------------------------


def test_store_from_url_variants(
    tmp_path: Path, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    absolute = store_from_url(f"file://{tmp_path}/abs")
    assert isinstance(absolute, FilesystemObjectStore) and absolute.root == tmp_path / "abs"
    monkeypatch.chdir(tmp_path)
    relative = store_from_url("file://rel/dir")
    assert isinstance(relative, FilesystemObjectStore) and relative.root == tmp_path / "rel/dir"
    s3 = store_from_url("s3://bucket/some/prefix/", endpoint_url="http://u:p@127.0.0.1:9/")
    assert isinstance(s3, S3ObjectStore)
    assert (s3.bucket, s3.prefix) == ("bucket", "some/prefix/")
    assert "u:p" not in repr(s3)
    bare = store_from_url("s3://bucket", multipart_threshold=1)
    assert isinstance(bare, S3ObjectStore) and bare.prefix == "" and bare.part_size == 5 * MiB
    for bad in ("ftp://x/y", "s3:///prefix", "file://", "/plain/path"):
        with pytest.raises(ConfigurationError):
            store_from_url(bad)
    with pytest.raises(ConfigurationError):
        store_from_url("s3://b/p", sse="rot13")
    with pytest.raises(ConfigurationError):
        store_from_url("s3://b/p", kms_key_id="k")


def test_settings(tmp_path: Path, aws_env: None) -> None:
    settings = Settings(var_dir=tmp_path)
    assert settings.effective_storage_url == f"file://{tmp_path.resolve()}/objects"
    store = store_from_settings(settings)
    assert isinstance(store, FilesystemObjectStore) and store.root == tmp_path / "objects"
    loaded = load_settings(
        {
            "PGA_GATEWAY_STORAGE_URL": "s3://docs/dis",
            "PGA_GATEWAY_STORAGE_ENDPOINT_URL": "http://127.0.0.1:9000",
            "PGA_GATEWAY_STORAGE_PATH_STYLE": "0",
            "PGA_GATEWAY_STORAGE_SSE": "aws:kms",
            "PGA_GATEWAY_STORAGE_KMS_KEY_ID": "alias/pga",
            "PGA_GATEWAY_STORAGE_MULTIPART_THRESHOLD_BYTES": str(16 * MiB),
        }
    )
    assert loaded.effective_storage_url == "s3://docs/dis"
    s3 = store_from_settings(loaded)
    assert isinstance(s3, S3ObjectStore)
    assert (s3.bucket, s3.prefix, s3.part_size) == ("docs", "dis/", 16 * MiB)
    assert s3._client.meta.config.s3 == {"addressing_style": "virtual"}
    assert isinstance(s3, ObjectStore) and isinstance(store, ObjectStore)
