"""Filesystem object store: the embedded default (``./var/objects``).

Layout — key ``a/b/scan.pdf`` is the file ``<root>/a.d/b.d/scan.pdf.obj``. Directories carry a
``.d`` suffix and object files an ``.obj`` suffix, so the keys ``a`` and ``a/b`` can both exist
(a file ``a.obj`` beside a directory ``a.d``) and nothing else in the tree (temp files, stray
files) is ever mistaken for an object. Directories are created 0700, files 0600.

Object file format — a fixed 512-byte header, then the content bytes::

    PGAOBJ1\\n{"content_type": "...", "sha256": "<hex>", "size": N}<spaces>\\n

The SHA-256 lives *inside* the object file (not in a sidecar) so content and hash are replaced
together by one ``os.replace``: a reader can never pair new content with an old hash.

Writing — ``put_stream`` creates ``.pgatmp-<random>.partial`` (0600) in the object's own
directory, writes a placeholder header, streams and hashes the content, rewrites the header,
fsyncs, ``os.replace``-s it onto the final name and fsyncs the directory. On any failure
(``PayloadTooLarge``, an exception from the caller's chunk iterator, a disk error) the temp
file is removed; a crash can leave one behind, which :meth:`sweep_temp_files` (run at
start-up) deletes once it is older than a threshold. ``list_keys`` never reports temp files.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from typing import IO

from gateway.errors import NotFound, StorageUnavailable
from pga_dis.storage import (
    InvalidObjectKey,
    StorageCorrupt,
    StoredObject,
    VerifyingReader,
    iter_limited,
    validate_content_type,
    validate_key,
    validate_prefix,
)

HEADER_SIZE = 512
MAGIC = b"PGAOBJ1\n"
OBJECT_SUFFIX = ".obj"
DIR_SUFFIX = ".d"
TEMP_PREFIX = ".pgatmp-"
TEMP_SUFFIX = ".partial"
_TEMP_NAME = re.compile(r"^\.pgatmp-[A-Za-z0-9_]+\.partial$")
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class FilesystemObjectStore:
    """``ObjectStore`` on a local (or shared POSIX) directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"FilesystemObjectStore({str(self.root)!r})"

    # -- paths -------------------------------------------------------------------------

    def _path_for(self, key: str) -> Path:
        segments = validate_key(key).split("/")
        path = self.root
        for segment in segments[:-1]:
            path = path / (segment + DIR_SUFFIX)
        return path / (segments[-1] + OBJECT_SUFFIX)

    def _make_dirs(self, directory: Path) -> None:
        missing: list[Path] = []
        probe = directory
        while not probe.is_dir():
            missing.append(probe)
            if probe.parent == probe:
                break
            probe = probe.parent
        for path in reversed(missing):
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                continue
            _fsync_dir(path.parent)

    # -- writing -----------------------------------------------------------------------

    def put_stream(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str,
        max_bytes: int | None = None,
    ) -> StoredObject:
        final = self._path_for(key)
        content_type = validate_content_type(content_type)
        try:
            self._make_dirs(final.parent)
            fd, tmp_name = tempfile.mkstemp(
                dir=final.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX
            )
        except OSError as exc:
            raise self._unavailable("write", key, exc) from None
        digest = hashlib.sha256()
        size = 0
        try:
            with open(fd, "wb") as f:
                _write(f, b"\0" * HEADER_SIZE, key, self)
                # Exceptions from the caller's iterator propagate untouched.
                for data in iter_limited(chunks, max_bytes, digest):
                    _write(f, data, key, self)
                    size += len(data)
                stored = StoredObject(key, size, digest.hexdigest(), content_type)
                try:
                    f.seek(0)
                    f.write(_header(stored))
                    f.flush()
                    os.fsync(f.fileno())
                except OSError as exc:
                    raise self._unavailable("write", key, exc) from None
            try:
                os.replace(tmp_name, final)
            except OSError as exc:
                raise self._unavailable("write", key, exc) from None
        except BaseException:
            _unlink_quietly(tmp_name)
            raise
        _fsync_dir(final.parent)
        return stored

    def delete(self, key: str) -> None:
        path = self._path_for(key)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise self._unavailable("delete", key, exc) from None
        _fsync_dir(path.parent)

    # -- reading -----------------------------------------------------------------------

    def _open_object(self, key: str) -> tuple[IO[bytes], StoredObject] | None:
        path = self._path_for(key)
        try:
            fd = os.open(path, _READ_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise StorageCorrupt(f"object {key!r} is a symbolic link") from None
            raise self._unavailable("read", key, exc) from None
        f = open(fd, "rb")  # noqa: SIM115 - owned by the caller / the reader, which close it
        try:
            header = f.read(HEADER_SIZE)
            return f, _parse_header(key, header)
        except OSError as exc:
            f.close()
            raise self._unavailable("read", key, exc) from None
        except BaseException:
            f.close()
            raise

    def stat(self, key: str) -> StoredObject | None:
        opened = self._open_object(key)
        if opened is None:
            return None
        f, stored = opened
        f.close()
        return stored

    def open(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        opened = self._open_object(key)
        if opened is None:
            raise NotFound(f"object {key!r} not found")
        f, stored = opened
        raw = self._read_chunks(f, key, max(1, chunk_size))

        def close() -> None:
            raw.close()
            f.close()

        return VerifyingReader(key, raw, sha256=stored.sha256, size=stored.size, close=close)

    def _read_chunks(self, f: IO[bytes], key: str, chunk_size: int) -> Generator[bytes, None, None]:
        while True:
            try:
                data = f.read(chunk_size)
            except OSError as exc:
                raise self._unavailable("read", key, exc) from None
            if not data:
                return
            yield data

    def presigned_url(self, key: str, *, expires_seconds: int = 300) -> str | None:
        validate_key(key)
        return None

    # -- listing and housekeeping ------------------------------------------------------

    def list_keys(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        start, start_segments = self.root, []
        if "/" in prefix:
            directory = prefix.rsplit("/", 1)[0]
            try:
                validate_key(directory)
            except InvalidObjectKey:
                return []
            start_segments = directory.split("/")
            start = self.root.joinpath(*(s + DIR_SUFFIX for s in start_segments))
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start, onerror=self._walk_error):
            relative = Path(dirpath).relative_to(start).parts
            segments = start_segments + [p[: -len(DIR_SUFFIX)] for p in relative]
            dirnames[:] = [d for d in dirnames if d.endswith(DIR_SUFFIX) and len(d) > 2]
            for name in filenames:
                if name.endswith(OBJECT_SUFFIX) and len(name) > len(OBJECT_SUFFIX):
                    key = "/".join([*segments, name[: -len(OBJECT_SUFFIX)]])
                    if key.startswith(prefix):
                        keys.append(key)
        return sorted(keys)

    def _walk_error(self, exc: OSError) -> None:
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            return
        raise self._unavailable("list", "", exc) from None

    def sweep_temp_files(self, older_than_seconds: float = 3600.0) -> int:
        """Delete temp files (left by a crash mid-write) older than the threshold."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for dirpath, _dirnames, filenames in os.walk(self.root, onerror=self._walk_error):
            for name in filenames:
                if not _TEMP_NAME.match(name):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    if os.lstat(path).st_mtime <= cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise self._unavailable("sweep", name, exc) from None
        return removed

    def _unavailable(self, action: str, key: str, exc: OSError) -> StorageUnavailable:
        reason = exc.strerror or type(exc).__name__
        return StorageUnavailable(
            f"filesystem object store {str(self.root)!r}: {action} of {key!r} failed: {reason}"
        )


def _header(stored: StoredObject) -> bytes:
    body = json.dumps(
        {"content_type": stored.content_type, "sha256": stored.sha256, "size": stored.size},
        sort_keys=True,
    ).encode("ascii")
    header = MAGIC + body
    if len(header) > HEADER_SIZE - 1:  # pragma: no cover - content type length is capped
        raise ValueError("object header too long")
    return header + b" " * (HEADER_SIZE - 1 - len(header)) + b"\n"


def _parse_header(key: str, header: bytes) -> StoredObject:
    if len(header) != HEADER_SIZE or not header.startswith(MAGIC):
        raise StorageCorrupt(f"object {key!r}: missing or damaged header")
    try:
        meta = json.loads(header[len(MAGIC) :].decode("ascii"))
        sha256, size, content_type = meta["sha256"], meta["size"], meta["content_type"]
    except (ValueError, KeyError, TypeError):
        raise StorageCorrupt(f"object {key!r}: damaged header") from None
    if not isinstance(sha256, str) or not isinstance(size, int) or size < 0:
        raise StorageCorrupt(f"object {key!r}: damaged header")
    return StoredObject(key, size, sha256, str(content_type))


def _write(f: IO[bytes], data: bytes, key: str, store: FilesystemObjectStore) -> None:
    try:
        f.write(data)
    except OSError as exc:
        raise store._unavailable("write", key, exc) from None


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename is still atomic
    finally:
        os.close(fd)
