"""`flask backup DIR` and `flask restore DIR`: a consistent snapshot of the database and the file store.

A backup directory holds:

- `database.sqlite3` — SQLite's online backup API (a consistent copy while the
  site runs, WAL included), checked with `PRAGMA integrity_check`; or
  `database.dump` — `pg_dump --format=custom` of PostgreSQL, taken in the same
  REPEATABLE READ snapshot (`pg_export_snapshot`) that the manifest counts;
- `files/` — a copy of the file store (`FILE_STORE_DIR`, else `UPLOAD_FOLDER`,
  instance/uploads), copied after the database so every file the snapshot
  names is there;
- `manifest.json`, written last (a directory without one is not a backup):
  per table the row count and a sha256 over its rows in primary-key order,
  per file its size and sha256, the database file's sha256, the Alembic
  revision and the dialect.

`restore` refuses a directory whose files do not match the manifest and an
instance that is not empty (a database with tables, a file store with
files), loads the database (`sqlite3` backup API / `pg_restore`) and the
files, then recomputes every count and hash from what it restored and fails
on any difference. Secrets are not in a backup (SECRET_KEY lives in the
environment or instance/secret_key): a restored site logs everyone out,
nothing else. Exports (EXPORT_FOLDER) are regenerated, not backed up.
"""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import uuid

import sqlalchemy as sa
from flask import current_app

from .extensions import db

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
FILES = "files"


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message says why."""


def file_store_dir() -> str:
    config = current_app.config
    return config.get("FILE_STORE_DIR") or config["UPLOAD_FOLDER"]


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _cell(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"sha256": hashlib.sha256(bytes(value)).hexdigest()}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def table_digests(conn) -> dict:
    """{table: {"rows": n, "sha256": …}} over every row in primary-key order (one dialect's raw values)."""
    insp = sa.inspect(conn)
    quote = conn.dialect.identifier_preparer.quote
    out = {}
    for table in sorted(insp.get_table_names()):
        columns = [c["name"] for c in insp.get_columns(table)]
        order = insp.get_pk_constraint(table).get("constrained_columns") or columns
        sql = (f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} "
               f"ORDER BY {', '.join(quote(c) for c in order)}")
        h, rows = hashlib.sha256(), 0
        for row in conn.exec_driver_sql(sql):
            h.update(json.dumps([_cell(v) for v in row], ensure_ascii=False, sort_keys=True, default=str).encode())
            h.update(b"\n")
            rows += 1
        out[table] = {"rows": rows, "sha256": h.hexdigest()}
    return out


def file_digests(root: str) -> dict:
    out = {}
    if not os.path.isdir(root):
        return out
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            out[rel] = {"bytes": os.path.getsize(path), "sha256": sha256_file(path)}
    return dict(sorted(out.items()))


def _empty_dir(path: str) -> bool:
    return not os.path.exists(path) or (os.path.isdir(path) and not os.listdir(path))


def _revision(conn) -> str | None:
    if "alembic_version" not in sa.inspect(conn).get_table_names():
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _libpq(url: sa.engine.URL) -> tuple[str, dict]:
    """A libpq URI without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client)")
    return path


def _run(args: list[str], env: dict) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{os.path.basename(args[0])} failed: {done.stderr.strip()[:2000]}")


def backup(directory: str) -> dict:
    if not _empty_dir(directory):
        raise BackupError(f"{directory} exists and is not empty")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    engine = db.engine
    manifest = {"format": FORMAT, "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "dialect": engine.dialect.name}
    if engine.dialect.name == "sqlite":
        target = os.path.join(directory, SQLITE_FILE)
        source = sqlite3.connect(engine.url.database)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
            source.close()
        if check != "ok":
            raise BackupError(f"the copy fails PRAGMA integrity_check: {check}")
        os.chmod(target, 0o600)
        snapshot = sa.create_engine(f"sqlite:///{target}")
        try:
            with snapshot.connect() as conn:
                manifest["tables"] = table_digests(conn)
                manifest["alembic_revision"] = _revision(conn)
        finally:
            snapshot.dispose()
        manifest["database"] = {"file": SQLITE_FILE, "sha256": sha256_file(target)}
    elif engine.dialect.name == "postgresql":
        target = os.path.join(directory, PG_FILE)
        uri, env = _libpq(engine.url)
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            snapshot_id = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--snapshot={snapshot_id}", f"--file={target}", uri], env)
            manifest["tables"] = table_digests(conn)
            manifest["alembic_revision"] = _revision(conn)
        os.chmod(target, 0o600)
        manifest["database"] = {"file": PG_FILE, "sha256": sha256_file(target)}
    else:
        raise BackupError(f"no backup for {engine.dialect.name}")
    store = file_store_dir()
    files = os.path.join(directory, FILES)
    if os.path.isdir(store):
        shutil.copytree(store, files)
    else:
        os.makedirs(files)
    manifest["files"] = file_digests(files)
    with open(os.path.join(directory, MANIFEST), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1, sort_keys=True)
    return manifest


def read_manifest(directory: str) -> dict:
    path = os.path.join(directory, MANIFEST)
    if not os.path.exists(path):
        raise BackupError(f"{directory} has no {MANIFEST}: not a finished backup")
    with open(path, encoding="utf-8") as fh:
        manifest = json.load(fh)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')}")
    return manifest


def _differences(expected: dict, actual: dict, what: str) -> list[str]:
    problems = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            problems.append(f"{what} {name} is missing")
        elif name not in expected:
            problems.append(f"{what} {name} is not in the manifest")
        elif expected[name] != actual[name]:
            problems.append(f"{what} {name}: expected {expected[name]}, found {actual[name]}")
    return problems


def restore(directory: str) -> dict:
    manifest = read_manifest(directory)
    engine = db.engine
    if manifest["dialect"] != engine.dialect.name:
        raise BackupError(f"a {manifest['dialect']} backup cannot go into {engine.dialect.name}")
    dump = os.path.join(directory, manifest["database"]["file"])
    if sha256_file(dump) != manifest["database"]["sha256"]:
        raise BackupError(f"{dump} does not match the manifest (damaged backup)")
    problems = _differences(manifest["files"], file_digests(os.path.join(directory, FILES)), "backup file")
    if problems:
        raise BackupError("the backup's files do not match the manifest: " + "; ".join(problems[:10]))
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
    if tables:
        raise BackupError(f"the database is not empty ({len(tables)} tables): restore goes into a new instance")
    store = file_store_dir()
    if not _empty_dir(store):
        raise BackupError(f"the file store {store} is not empty")
    db.session.remove()
    engine.dispose()
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        target = sqlite3.connect(engine.url.database)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        os.chmod(engine.url.database, 0o600)
    else:
        uri, env = _libpq(engine.url)
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={uri}", dump],
             env)
    engine.dispose()
    files = os.path.join(directory, FILES)
    if os.path.isdir(files):
        if os.path.isdir(store):
            os.rmdir(store)
        shutil.copytree(files, store)
    with engine.connect() as conn:
        problems = _differences(manifest["tables"], table_digests(conn), "table")
    problems += _differences(manifest["files"], file_digests(store), "file")
    if problems:
        raise BackupError("the restored instance does not match the manifest: " + "; ".join(problems[:10]))
    return manifest
