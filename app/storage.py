"""The file store: large bytes (recordings, and from now on any large file) behind one small interface.

STYLE ("Lessons"): recordings, evidence, ID images and documents go through
the file store, never into a database row or into memory whole. A row keeps
the store's `key`, the size and the SHA-256; the bytes stay here.

The interface (`FileStore`) is what a caller may use:

- `put(stream, prefix=, suffix=, limit=, check=)` → `Stored(key, size, sha256)`:
  reads the stream in fixed-size chunks, hashing and counting as it writes; a
  stream over `limit` bytes, or one whose first bytes `check` refuses, stores
  nothing (the partial file is removed) and raises;
- `append(key, stream, limit=)` → the new size (a recording growing chunk by chunk);
- `iter_range(key, start, end)` → the bytes `start..end` (inclusive) in chunks;
- `size(key)`, `sha256(key)` (streamed), `exists(key)`, `delete(key)`.

The default is `DirectoryStore`, a directory (config `FILE_STORE_DIR`,
default instance/files). Another backend (an S3 bucket) implements the same
methods; `file_store()` picks the one the configuration names.

Deleting a row and its file must agree with the transaction:
`delete_after_commit(key)` removes the file only once the transaction that
deleted the row committed, and `delete_on_rollback(key)` removes a file
written for a row whose transaction rolled back.
"""
from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator, Optional, Protocol, Union

from flask import current_app
from sqlalchemy import event

CHUNK = 64 * 1024
_KEY = re.compile(r"^[a-z0-9][a-z0-9_/-]{0,150}(\.[a-z0-9]{1,8})?$")

Source = Union[BinaryIO, Iterable[bytes]]


class StoreError(Exception):
    """The store refused a write; nothing of it is kept."""


class TooLarge(StoreError):
    """The stream is longer than the limit."""


class Refused(StoreError):
    """`check` refused the stream's first bytes; its message is the reason."""


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


class FileStore(Protocol):
    def put(self, stream: Source, *, prefix: str = "", suffix: str = "", limit: Optional[int] = None,
            check: Optional[Callable[[bytes], None]] = None) -> Stored: ...

    def append(self, key: str, stream: Source, *, limit: Optional[int] = None) -> int: ...

    def iter_range(self, key: str, start: int = 0, end: Optional[int] = None) -> Iterator[bytes]: ...

    def size(self, key: str) -> int: ...

    def sha256(self, key: str) -> str: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


def chunks_of(stream: Source, size: int = CHUNK) -> Iterator[bytes]:
    """A readable stream or an iterable of bytes, as chunks (never the whole at once)."""
    if hasattr(stream, "read"):
        while True:
            block = stream.read(size)
            if not block:
                return
            yield block
    else:
        for block in stream:
            if block:
                yield block


class DirectoryStore:
    """Files under one directory; a key is a relative path made by the store."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def _path(self, key: str) -> str:
        if not _KEY.match(key) or ".." in key or "//" in key:
            raise StoreError(f"bad key {key!r}")
        return os.path.join(self.root, *key.split("/"))

    def put(self, stream, *, prefix="", suffix="", limit=None, check=None) -> Stored:
        key = "/".join(p for p in (prefix.strip("/"), uuid.uuid4().hex) if p) + suffix
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".part"
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            with open(tmp, "wb") as fh:
                for block in chunks_of(stream):
                    if check is not None and len(head) < 64:
                        head += block[:64 - len(head)]
                        if len(head) >= 64:
                            check(head)
                    size += len(block)
                    if limit is not None and size > limit:
                        raise TooLarge(f"over {limit} bytes")
                    digest.update(block)
                    fh.write(block)
            if check is not None and len(head) < 64:
                check(head)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        return Stored(key, size, digest.hexdigest())

    def append(self, key, stream, *, limit=None) -> int:
        path = self._path(key)
        with open(path, "r+b") as fh:
            fh.seek(0, os.SEEK_END)
            start = size = fh.tell()
            try:
                for block in chunks_of(stream):
                    size += len(block)
                    if limit is not None and size > limit:
                        raise TooLarge(f"over {limit} bytes")
                    fh.write(block)
            except BaseException:
                fh.truncate(start)
                raise
        return size

    def iter_range(self, key, start=0, end=None) -> Iterator[bytes]:
        path = self._path(key)
        with open(path, "rb") as fh:
            fh.seek(start)
            left = None if end is None else end - start + 1
            while left is None or left > 0:
                block = fh.read(CHUNK if left is None else min(CHUNK, left))
                if not block:
                    return
                if left is not None:
                    left -= len(block)
                yield block

    def size(self, key) -> int:
        return os.path.getsize(self._path(key))

    def sha256(self, key) -> str:
        digest = hashlib.sha256()
        for block in self.iter_range(key):
            digest.update(block)
        return digest.hexdigest()

    def exists(self, key) -> bool:
        return os.path.exists(self._path(key))

    def delete(self, key) -> None:
        try:
            os.remove(self._path(key))
        except FileNotFoundError:
            pass


def file_store() -> FileStore:
    """The application's store (one per app)."""
    app = current_app._get_current_object()
    root = os.path.abspath(app.config.get("FILE_STORE_DIR") or os.path.join(app.instance_path, "files"))
    store = app.extensions.get("file_store")
    if store is None or store.root != root:
        store = app.extensions["file_store"] = DirectoryStore(root)
    return store


# --- files and transactions -----------------------------------------------------

_PENDING = "file_store_pending"


def _pending(session) -> dict:
    info = session.info
    if _PENDING not in info:
        info[_PENDING] = {"commit": [], "rollback": []}
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
    return info[_PENDING]


def _run(session, which: str) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    keys, pending["commit"], pending["rollback"] = pending[which], [], []
    for store, key in keys:
        store.delete(key)


def _after_commit(session) -> None:
    # a SAVEPOINT released (Machine.create's insert) is not the transaction's commit
    if session.in_nested_transaction():
        return
    _run(session, "commit")


def _after_rollback(session) -> None:
    if session.in_nested_transaction():
        return
    _run(session, "rollback")


def delete_after_commit(session, key: str) -> None:
    """Remove `key` from the store once this transaction commits (its row is deleted)."""
    _pending(session)["commit"].append((file_store(), key))


def delete_on_rollback(session, key: str) -> None:
    """Remove `key` if this transaction rolls back (the row that names it never existed)."""
    _pending(session)["rollback"].append((file_store(), key))
