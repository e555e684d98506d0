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
default instance/files). `S3Store` keeps the bytes in a bucket of anything
speaking S3 (MinIO at a court, a cloud's object storage) with the same
methods; `file_store()` picks the one the configuration names
(`FILE_STORE=s3`, then `S3_BUCKET`, `S3_ENDPOINT_URL`, `S3_REGION`,
`S3_ACCESS_KEY_ID`/`S3_SECRET_ACCESS_KEY` or boto3's own credential chain,
`S3_KEY_PREFIX`; README "Files in S3-compatible storage"). An S3 store can
also hand out a pre-signed URL (`presigned_url`) so a large download goes
from the bucket to the browser without passing through a worker.

Deleting a row and its file must agree with the transaction:
`delete_after_commit(key)` removes the file only once the transaction that
deleted the row committed, and `delete_on_rollback(key)` removes a file
written for a row whose transaction rolled back.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import uuid
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO, Callable, Iterable, Iterator, Optional, Protocol, Union

from flask import current_app

from . import transactions

log = logging.getLogger("court.storage")

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


class S3Store:
    """Objects in one bucket of an S3-compatible server; a key is the store's key under `key_prefix`.

    `put` streams: up to `part_size` bytes it is one PUT, beyond that a
    multipart upload of `part_size` parts (aborted, so nothing is kept, when the
    stream is over `limit`, `check` refuses it or it fails). S3 objects cannot
    grow, so `append` writes a new version of the object under the same key:
    the old bytes are copied inside the server (UploadPartCopy, never through
    this process) when they are at least the minimum part (5 MiB), else read
    back and sent with the new ones; over `limit`, the object is left as it
    was. `iter_range` is a ranged GET read in chunks.
    """

    MIN_PART = 5 * 1024 * 1024  # S3's smallest part but the last

    def __init__(self, bucket: str, *, endpoint_url: Optional[str] = None, region: Optional[str] = None,
                 access_key: Optional[str] = None, secret_key: Optional[str] = None, key_prefix: str = "",
                 part_size: int = 8 * 1024 * 1024, min_part: int = MIN_PART, client=None):
        # min_part: the server's smallest part but the last (S3 and MinIO: 5 MiB; a test server may allow less)
        if part_size < min_part:
            raise ValueError(f"part_size must be at least {min_part} bytes (the server's minimum part)")
        self.bucket, self.part_size, self.min_part = bucket, part_size, min_part
        self.key_prefix = key_prefix.strip("/") + "/" if key_prefix.strip("/") else ""
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3", endpoint_url=endpoint_url or None, region_name=region or None,
                aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
                # path-style: MinIO and most on-premise servers have no per-bucket DNS names
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                              signature_version="s3v4"))
        self.client = client

    def _object(self, key: str) -> str:
        if not _KEY.match(key) or ".." in key or "//" in key:
            raise StoreError(f"bad key {key!r}")
        return self.key_prefix + key

    def _missing(self, exc) -> bool:
        return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")

    def _write(self, name: str, blocks: Iterator[bytes], *, limit=None, check=None, copy_from: int = 0):
        """Write the object `name` from `blocks`, preceded (copy_from > 0) by its current first
        `copy_from` bytes copied inside the server. Returns (size, sha256 of the blocks)."""
        digest, size, head = hashlib.sha256(), copy_from, b""
        buf, parts, upload = bytearray(), [], None

        def send_part(data: bytes) -> None:
            nonlocal upload
            if upload is None:
                upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=name)["UploadId"]
                if copy_from:
                    r = self.client.upload_part_copy(
                        Bucket=self.bucket, Key=name, UploadId=upload, PartNumber=1,
                        CopySource={"Bucket": self.bucket, "Key": name}, CopySourceRange=f"bytes=0-{copy_from - 1}")
                    parts.append({"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]})
            n = len(parts) + 1
            r = self.client.upload_part(Bucket=self.bucket, Key=name, UploadId=upload, PartNumber=n, Body=data)
            parts.append({"PartNumber": n, "ETag": r["ETag"]})

        try:
            for block in blocks:
                if check is not None and len(head) < 64:
                    head += block[:64 - len(head)]
                    if len(head) >= 64:
                        check(head)
                size += len(block)
                if limit is not None and size > limit:
                    raise TooLarge(f"over {limit} bytes")
                digest.update(block)
                buf += block
                while len(buf) >= self.part_size:
                    send_part(bytes(buf[:self.part_size]))
                    del buf[:self.part_size]
            if check is not None and len(head) < 64:
                check(head)
            if upload is None and not copy_from:
                self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(buf))
            else:
                if buf or upload is None:
                    send_part(bytes(buf))
                self.client.complete_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload,
                                                      MultipartUpload={"Parts": parts})
        except BaseException:
            if upload is not None:
                try:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload)
                except Exception:  # the error that got us here is the one to report; this one is logged
                    log.warning("S3: could not abort the multipart upload %s of %s; the bucket's lifecycle "
                                "rule removes it", upload, name, exc_info=True)
            raise
        return size, digest.hexdigest()

    def put(self, stream, *, prefix="", suffix="", limit=None, check=None) -> Stored:
        key = "/".join(p for p in (prefix.strip("/"), uuid.uuid4().hex) if p) + suffix
        size, sha = self._write(self._object(key), chunks_of(stream), limit=limit, check=check)
        return Stored(key, size, sha)

    def append(self, key, stream, *, limit=None) -> int:
        name, start = self._object(key), self.size(key)
        blocks = chunks_of(stream)
        first = next(blocks, b"")
        if not first:
            return start
        blocks = chain([first], blocks)
        if start >= self.min_part:
            size, _sha = self._write(name, blocks, limit=limit, copy_from=start)
        else:  # under S3's minimum part: the old bytes (< 5 MiB) travel again, in front of the new
            if limit is not None and start > limit:
                raise TooLarge(f"over {limit} bytes")
            size, _sha = self._write(name, chain(self.iter_range(key, 0, start - 1) if start else iter(()), blocks),
                                     limit=limit)
        return size

    def iter_range(self, key, start=0, end=None) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        name = self._object(key)
        if end is not None and end < start:
            return
        args = {"Bucket": self.bucket, "Key": name}
        if start or end is not None:
            args["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            body = self.client.get_object(**args)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return  # past the end, or any range of an empty object: no bytes, as a file gives
            raise
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def size(self, key) -> int:
        return self.client.head_object(Bucket=self.bucket, Key=self._object(key))["ContentLength"]

    def sha256(self, key) -> str:
        digest = hashlib.sha256()
        for block in self.iter_range(key):
            digest.update(block)
        return digest.hexdigest()

    def exists(self, key) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(key))
            return True
        except ClientError as exc:
            if self._missing(exc):
                return False
            raise

    def delete(self, key) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))  # absent: no error in S3

    def presigned_url(self, key, *, seconds: int = 300, file_name: Optional[str] = None,
                      content_type: Optional[str] = None, disposition: str = "attachment") -> str:
        """A GET URL for the object, valid `seconds`, that any client reaching the bucket may use
        (Range included); the response carries the given content type and disposition."""
        params = {"Bucket": self.bucket, "Key": self._object(key)}
        if content_type:
            params["ResponseContentType"] = content_type
        if file_name:
            from urllib.parse import quote

            params["ResponseContentDisposition"] = f"{disposition}; filename*=UTF-8''{quote(file_name)}"
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=int(seconds))


def store_from_config(config, instance_path: str) -> FileStore:
    """The store the configuration names: `FILE_STORE` = `directory` (default) or `s3`."""
    kind = (config.get("FILE_STORE") or "directory").lower()
    if kind == "s3":
        if not config.get("S3_BUCKET"):
            raise RuntimeError("FILE_STORE=s3 needs S3_BUCKET")
        return S3Store(config["S3_BUCKET"], endpoint_url=config.get("S3_ENDPOINT_URL"),
                       region=config.get("S3_REGION"), access_key=config.get("S3_ACCESS_KEY_ID"),
                       secret_key=config.get("S3_SECRET_ACCESS_KEY"), key_prefix=config.get("S3_KEY_PREFIX") or "")
    if kind != "directory":
        raise RuntimeError(f"FILE_STORE={kind!r}: 'directory' or 's3'")
    return DirectoryStore(config.get("FILE_STORE_DIR") or os.path.join(instance_path, "files"))


_CONFIG = ("FILE_STORE", "FILE_STORE_DIR", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID",
           "S3_SECRET_ACCESS_KEY", "S3_KEY_PREFIX")


def file_store() -> FileStore:
    """The application's store (one per app, made again when the configuration changes)."""
    app = current_app._get_current_object()
    wanted = tuple(app.config.get(name) for name in _CONFIG) + (app.instance_path,)
    held = app.extensions.get("file_store")
    if held is None or held[0] != wanted:
        held = app.extensions["file_store"] = (wanted, store_from_config(app.config, app.instance_path))
    return held[1]


# --- files and transactions -----------------------------------------------------

def delete_after_commit(session, key: str) -> None:
    """Remove `key` from the store once this transaction commits (its row is deleted)."""
    store = file_store()
    transactions.after_commit(session, lambda: store.delete(key))


def delete_on_rollback(session, key: str) -> None:
    """Remove `key` if this transaction rolls back (the row that names it never existed)."""
    store = file_store()
    transactions.on_rollback(session, lambda: store.delete(key))


def put_bytes(session, body: bytes, *, prefix: str, suffix: str = "") -> Stored:
    """Bytes made in memory (a generated agreement, a drawn signature, a checked upload) into the
    store, for a row added in this transaction; removed again if the transaction rolls back."""
    stored = file_store().put(io.BytesIO(body), prefix=prefix, suffix=suffix)
    delete_on_rollback(session, stored.key)
    return stored


def read_bytes(key: str) -> bytes:
    """A small stored file whole (a document python-docx opens, a signature image); a download
    streams `iter_range` instead."""
    return b"".join(file_store().iter_range(key))
