"""0019_i17bytes_store moves the bytes of agreements, transcripts and signatures into the file store
and back, keeping every hash (issue 17 item 2)."""
import hashlib

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.storage import file_store

from .helpers import make_app
from .test_audit_and_schema import empty_db_url  # noqa: F401  (fixture)

DOC, TRANSCRIPT, IMAGE = b"PK\x03\x04 agreement bytes" * 100, b"\x89PNG transcript", b"\x89PNG\r\n\x1a\n sig"


def _sha(b):
    return hashlib.sha256(b).hexdigest()


def test_upgrade_moves_bytes_to_the_store_and_downgrade_brings_them_back(empty_db_url):  # noqa: F811
    up_and_down_keeps_every_hash(make_app(empty_db_url), empty_db_url)


def up_and_down_keeps_every_hash(app, empty_db_url):
    """120 agreements (more than one chunk), a transcript and a signature as 0018 held them go to the
    app's configured store and come back (tests/test_document_store.py runs it against S3)."""
    with app.app_context():
        upgrade(revision="0018_i17summary_stats")
        # rows as the revision before held them, without their cases: a plain engine of our own, whose SQLite
        # connections do not turn foreign keys on (the app's do) and whose PostgreSQL session skips the FK triggers
        raw = sa.create_engine(empty_db_url)
        with raw.begin() as conn:
            if conn.dialect.name != "sqlite":
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for i in range(1, 121):  # more than one chunk
                conn.execute(sa.text(
                    "INSERT INTO agreement (id, case_id, version, generated, file_name, content_type, data, size, "
                    "sha256, created_at) VALUES (:i, 1, :i, true, 'a.docx', 'x/y', :d, 1, :h, CURRENT_TIMESTAMP)"),
                    {"i": i, "d": DOC + bytes([i]), "h": _sha(DOC + bytes([i]))})
            conn.execute(sa.text(
                "INSERT INTO transcript (id, case_id, file_name, content_type, data, size, sha256, uploaded_at) "
                "VALUES (1, 1, 't.png', 'image/png', :d, 1, :h, CURRENT_TIMESTAMP)"),
                {"d": TRANSCRIPT, "h": _sha(TRANSCRIPT)})
            conn.execute(sa.text(
                "INSERT INTO signature (id, agreement_id, role, signer_name, image, signed_at, document_sha256) "
                "VALUES (1, 1, 'MEDIATOR', '陈静', :d, CURRENT_TIMESTAMP, 'x')"), {"d": IMAGE})
        raw.dispose()
        upgrade(revision="0019_i17bytes_store")
        store = file_store()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, file_key, sha256 FROM agreement ORDER BY id")).all()
            assert len(rows) == 120
            for i, key, sha in rows:
                assert store.sha256(key) == sha == _sha(DOC + bytes([i]))
            key, sha = conn.execute(sa.text("SELECT file_key, sha256 FROM transcript")).one()
            assert store.sha256(key) == sha == _sha(TRANSCRIPT)
            image_key = conn.execute(sa.text("SELECT image_key FROM signature")).scalar()
            assert store.sha256(image_key) == _sha(IMAGE)
        for table, col in (("agreement", "file_key"), ("transcript", "file_key"), ("signature", "image_key")):
            cols = {c["name"] for c in sa.inspect(db.engine).get_columns(table)}
            assert col in cols and "data" not in cols and "image" not in cols
        downgrade(revision="0018_i17summary_stats")
        with db.engine.connect() as conn:
            for i, data, sha in conn.execute(sa.text("SELECT id, data, sha256 FROM agreement ORDER BY id")):
                assert _sha(bytes(data)) == sha == _sha(DOC + bytes([i]))
            assert bytes(conn.execute(sa.text("SELECT data FROM transcript")).scalar()) == TRANSCRIPT
            assert bytes(conn.execute(sa.text("SELECT image FROM signature")).scalar()) == IMAGE
            assert "file_key" not in {c["name"] for c in sa.inspect(conn).get_columns("agreement")}
        db.session.remove()
        db.engine.dispose()
