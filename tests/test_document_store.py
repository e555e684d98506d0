"""Agreements, transcripts and signature images live in the file store (issue 17 item 2): every row's
key names an object holding exactly the row's bytes, the downloads serve those bytes, deleting the
case removes the objects once that commits, and a rolled-back write leaves nothing behind."""
from __future__ import annotations

import hashlib
import io
import os
import zipfile

import pytest
import sqlalchemy as sa

from app.enums import CaseStatus
from app.extensions import db
from app.models import Agreement, Case, Signature, Transcript
from app.storage import DirectoryStore
from app.workflows import agreements

from .case_factory import get_case, mediator_actor
from .helpers import app_ctx, flashes, make_app, text
from .test_audit_and_schema import empty_db_url  # noqa: F401  (fixture)
from .test_store_bytes_migration import up_and_down_keeps_every_hash
from .test_agreements import case_id, data_url, generate, latest, mediator_signs, png  # noqa: F401  (fixture)

COURT_ADMIN, COURT_USER, MEDIATOR = "13800000001", "13800000002", "13900000001"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture()
def store(app, tmp_path):
    """A store of this test's own, so what is in it is this test's doing."""
    app.config["FILE_STORE_DIR"] = str(tmp_path / "files")
    return DirectoryStore(str(tmp_path / "files"))


def objects(store: DirectoryStore) -> set[str]:
    found = set()
    for folder, _dirs, files in os.walk(store.root):
        for name in files:
            found.add(os.path.relpath(os.path.join(folder, name), store.root).replace(os.sep, "/"))
    return found


def _whole(store, key) -> bytes:
    return b"".join(store.iter_range(key))


def _signed_everything(app, login_as, case_id):  # noqa: F811
    """A generated agreement the mediator and the applicant signed, through the screens; its id."""
    mediator = login_as(MEDIATOR, "MEDIATOR")
    assert generate(mediator, case_id).status_code == 302
    aid = latest(app, case_id).id
    mediator_signs(app, mediator, case_id)
    mediator.post(f"/case/{case_id}/do/apply_close", data={"version": get_case(app, case_id).version})
    assert get_case(app, case_id).status is CaseStatus.CLOSE_REQUESTED
    party = login_as("13500000001", "PARTY")
    resp = party.post(f"/portal/case/{case_id}/AGREEMENT/{aid}/sign", data={"signature": data_url()})
    assert "已完成签字" in text(resp)
    return aid


def test_generated_agreement_and_its_signatures_are_the_rows_bytes_in_the_store(app, login_as, case_id, store):  # noqa: F811,E501
    aid = _signed_everything(app, login_as, case_id)
    with app_ctx(app):
        agreement = db.session.get(Agreement, aid)
        assert agreement.file_key.startswith("agreements/") and agreement.file_key.endswith(".docx")
        assert store.sha256(agreement.file_key) == agreement.sha256 == _sha(_whole(store, agreement.file_key))
        assert store.size(agreement.file_key) == agreement.size
        body = _whole(store, agreement.file_key)
        signatures = db.session.scalars(sa.select(Signature).where(Signature.agreement_id == aid)
                                        .order_by(Signature.id)).all()
        assert sorted(s.role.name for s in signatures) == ["MEDIATOR", "PARTY"]
        for s in signatures:
            assert s.image_key.startswith("signatures/") and store.sha256(s.image_key) == _sha(png())
            assert s.document_sha256 == agreement.sha256
        keys = {agreement.file_key, *(s.image_key for s in signatures)}
    assert len(keys) == 3 and keys <= objects(store)

    court = login_as(COURT_ADMIN)
    resp = court.get(f"/case/{case_id}/document/AGREEMENT/{aid}")
    assert resp.status_code == 200 and resp.data == body
    assert login_as("13500000001", "PARTY").get(f"/portal/case/{case_id}/AGREEMENT/{aid}").data == body
    # the signed package carries the stored signature images themselves
    signed = court.get(f"/case/{case_id}/document/AGREEMENT/{aid}/signed")
    with zipfile.ZipFile(io.BytesIO(signed.data)) as docx:
        media = [docx.read(n) for n in docx.namelist() if n.startswith("word/media/")]
    assert png() in media  # python-docx keeps one part for identical images


def test_uploaded_transcript_and_its_signatures_are_the_rows_bytes_in_the_store(app, login_as, case_id, store):  # noqa: F811,E501
    mediator = login_as(MEDIATOR, "MEDIATOR")
    mediator.post(f"/case/{case_id}/transcript/upload", data={"file": (io.BytesIO(png()), "笔录.png")},
                  content_type="multipart/form-data")
    with app_ctx(app):
        transcript = db.session.scalar(sa.select(Transcript).where(Transcript.case_id == case_id))
        tid, key = transcript.id, transcript.file_key
        assert key.startswith("transcripts/") and key.endswith(".png")
        assert store.sha256(key) == transcript.sha256 == _sha(png()) and store.size(key) == transcript.size
    mediator_signs(app, mediator, case_id, "TRANSCRIPT", tid)
    mediator.post(f"/case/{case_id}/transcript/{tid}/confirm")
    party = login_as("13500000001", "PARTY")
    assert "已完成签字" in text(party.post(f"/portal/case/{case_id}/TRANSCRIPT/{tid}/sign",
                                         data={"signature": data_url()}))
    with app_ctx(app):
        images = db.session.scalars(sa.select(Signature.image_key).where(Signature.transcript_id == tid)).all()
    assert len(images) == 2 and all(store.sha256(k) == _sha(png()) for k in images)
    assert objects(store) == {key, *images}
    resp = login_as(COURT_ADMIN).get(f"/case/{case_id}/document/TRANSCRIPT/{tid}")
    assert resp.status_code == 200 and resp.data == png()
    assert party.get(f"/portal/case/{case_id}/TRANSCRIPT/{tid}").data == png()


def test_a_refused_upload_stores_nothing(app, login_as, case_id, store):  # noqa: F811
    mediator = login_as(MEDIATOR, "MEDIATOR")
    mediator.post(f"/case/{case_id}/transcript/upload", data={"file": (io.BytesIO(b"GIF89a...."), "笔录.gif")},
                  content_type="multipart/form-data")
    assert "PNG" in " ".join(flashes(mediator))
    mediator.post(f"/case/{case_id}/agreement/upload",
                  data={"file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "合同.docx")},
                  content_type="multipart/form-data")
    assert "DOCX" in " ".join(flashes(mediator))
    assert objects(store) == set()


def test_a_rolled_back_upload_leaves_no_object(app, case_id, store):  # noqa: F811
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        transcript = agreements.upload_transcript(case, mediator_actor(), "笔录.png", png())
        agreement = agreements.generate(case, mediator_actor(), {"terms": "被申请人支付货款50000元"})
        keys = {transcript.file_key, agreement.file_key}
        assert objects(store) == keys  # written while the transaction is open
        db.session.rollback()
    assert objects(store) == set()
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Transcript)
                                 .where(Transcript.case_id == case_id)) == 0


def _case_files(app, case_id) -> set[str]:  # noqa: F811
    with app_ctx(app):
        docs = [*db.session.scalars(sa.select(Agreement.file_key).where(Agreement.case_id == case_id)),
                *db.session.scalars(sa.select(Transcript.file_key).where(Transcript.case_id == case_id))]
        images = db.session.scalars(
            sa.select(Signature.image_key).outerjoin(Agreement, Signature.agreement_id == Agreement.id)
            .outerjoin(Transcript, Signature.transcript_id == Transcript.id)
            .where(sa.or_(Agreement.case_id == case_id, Transcript.case_id == case_id))).all()
    return {*docs, *images}


def test_deleting_the_case_removes_its_documents_and_signatures_from_the_store(app, login_as, case_id, store):  # noqa: F811,E501
    mediator = login_as(MEDIATOR, "MEDIATOR")
    mediator.post(f"/case/{case_id}/transcript/upload", data={"file": (io.BytesIO(png()), "笔录.png")},
                  content_type="multipart/form-data")
    with app_ctx(app):
        tid = db.session.scalar(sa.select(Transcript.id).where(Transcript.case_id == case_id))
    mediator_signs(app, mediator, case_id, "TRANSCRIPT", tid)
    _signed_everything(app, login_as, case_id)
    keys = _case_files(app, case_id)
    assert len(keys) == 5 and objects(store) == keys  # agreement, transcript, three signatures

    # refused: a court user who is not the admin, and the admin without confirming — nothing goes
    login_as(COURT_USER).post(f"/case/{case_id}/do/delete", data={"confirm": "y"})
    login_as(COURT_ADMIN).post(f"/case/{case_id}/do/delete", data={})
    assert get_case(app, case_id) is not None and objects(store) == keys

    resp = login_as(COURT_ADMIN).post(f"/case/{case_id}/do/delete", data={"confirm": "y"})
    assert resp.status_code == 302 and get_case(app, case_id) is None
    assert objects(store) == set()


def test_a_case_deletion_rolled_back_keeps_every_object(app, login_as, case_id, store):  # noqa: F811
    from app.workflows.case_lifecycle import apply

    from .case_factory import court_actor

    mediator = login_as(MEDIATOR, "MEDIATOR")
    assert generate(mediator, case_id).status_code == 302
    keys = _case_files(app, case_id)
    assert len(keys) == 1
    with app_ctx(app):
        apply(db.session.get(Case, case_id), "delete", court_actor(COURT_ADMIN), confirm=True)
        db.session.flush()
        db.session.rollback()
    assert get_case(app, case_id) is not None and objects(store) == keys


# --- the byte-moving migration against an S3 server (moto on loopback, as tests/test_storage_s3.py) ---

@pytest.fixture()
def s3_config():
    pytest.importorskip("moto.server", reason="moto[server] (requirements-dev.txt) is not installed")
    import uuid

    from moto.server import ThreadedMotoServer

    from app.storage import S3Store

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        config = {"FILE_STORE": "s3", "S3_BUCKET": "court-" + uuid.uuid4().hex[:12],
                  "S3_ENDPOINT_URL": f"http://{host}:{port}", "S3_REGION": "us-east-1",
                  "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing", "S3_KEY_PREFIX": "court/"}
        bucket = S3Store(config["S3_BUCKET"], endpoint_url=config["S3_ENDPOINT_URL"], region="us-east-1",
                         access_key="testing", secret_key="testing")
        bucket.client.create_bucket(Bucket=config["S3_BUCKET"])
        yield config, bucket
    finally:
        server.stop()


def test_the_byte_moving_migration_keeps_every_hash_in_an_s3_store(empty_db_url, s3_config):  # noqa: F811
    config, bucket = s3_config
    up_and_down_keeps_every_hash(make_app(empty_db_url, **config), empty_db_url)
    listed = [o["Key"] for o in bucket.client.list_objects_v2(Bucket=config["S3_BUCKET"]).get("Contents", [])]
    # 120 agreements, a transcript and a signature, under the configured key prefix; the downgrade leaves
    # them (0019's docstring: deleting before its transaction commits could lose the only copy)
    assert len(listed) == 122 and all(k.startswith("court/") for k in listed)
    assert {k.split("/")[1] for k in listed} == {"agreements", "transcripts", "signatures"}
