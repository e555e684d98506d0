"""The S3 file store (issue 17 item 2) against a real S3 server on loopback: moto's server mode.

moto (requirements-dev.txt, `moto[server]`) runs in this process as an HTTP
server on 127.0.0.1 with an ephemeral port; the store talks to it through
boto3 over HTTP with signed requests, exactly as it would to MinIO. One
server for the module; each test gets a bucket of its own.
"""
from __future__ import annotations

import hashlib
import os
import urllib.request
import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from app.enums import CaseStatus
from app.extensions import db
from app.models import Case, Recording
from app.storage import Refused, S3Store, StoreError, TooLarge, file_store

from .case_factory import make_case
from .helpers import app_ctx, text
from .test_hearings import _call, _join, _webm_head

MEDIATOR = "13900000001"
PARTIES = [("APPLICANT", "张三", "13500000001", "110105198001010013"),
           ("RESPONDENT", "李四", "13500000002", "11010519850505002X")]
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8
CREDENTIALS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing", "S3_REGION": "us-east-1"}


#: S3's smallest part but the last is 5 MiB; the server here allows 1 KiB, so multipart uploads and
#: server-side copies are exercised with kilobytes instead of megabytes (the suite's time)
MIN_PART, PART = 1024, 4096


@pytest.fixture(scope="module")
def s3_endpoint():
    import moto.s3.models
    from moto.server import ThreadedMotoServer

    saved, moto.s3.models.S3_UPLOAD_PART_MIN_SIZE = moto.s3.models.S3_UPLOAD_PART_MIN_SIZE, MIN_PART
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    moto.s3.models.S3_UPLOAD_PART_MIN_SIZE = saved


@pytest.fixture()
def bucket(s3_endpoint):
    name = "court-" + uuid.uuid4().hex[:12]
    store = S3Store(name, endpoint_url=s3_endpoint, region="us-east-1", access_key="testing", secret_key="testing",
                    part_size=PART, min_part=MIN_PART)
    store.client.create_bucket(Bucket=name)
    return store


def objects(store: S3Store) -> list[str]:
    return [o["Key"] for o in store.client.list_objects_v2(Bucket=store.bucket).get("Contents", [])]


def uploads(store: S3Store) -> list:
    return store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])


# --- the adapter ------------------------------------------------------------------

def test_put_range_size_hash_exists_delete_round_trip(bucket):
    data = os.urandom(200_000)
    stored = bucket.put(iter([data[:70_000], data[70_000:]]), prefix="recordings", suffix=".wav")
    assert stored.key.startswith("recordings/") and stored.key.endswith(".wav")
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert objects(bucket) == [stored.key]
    assert bucket.size(stored.key) == len(data) and bucket.sha256(stored.key) == stored.sha256
    assert b"".join(bucket.iter_range(stored.key)) == data
    assert b"".join(bucket.iter_range(stored.key, 1000, 1999)) == data[1000:2000]
    assert b"".join(bucket.iter_range(stored.key, 199_990)) == data[199_990:]
    assert b"".join(bucket.iter_range(stored.key, len(data))) == b""  # past the end: nothing, like a file
    assert bucket.exists(stored.key)
    bucket.delete(stored.key)
    assert not bucket.exists(stored.key) and objects(bucket) == []
    bucket.delete(stored.key)  # deleting what is gone is no error
    with pytest.raises(StoreError):
        bucket.size("../etc/passwd")


def test_an_empty_object_reads_as_no_bytes(bucket):
    stored = bucket.put(iter(()), prefix="recordings", suffix=".webm")
    assert stored.size == 0 and bucket.size(stored.key) == 0
    assert b"".join(bucket.iter_range(stored.key)) == b"" and b"".join(bucket.iter_range(stored.key, 0, 63)) == b""


def test_a_large_put_is_multipart_and_one_over_the_limit_or_refused_keeps_nothing(bucket):
    data = os.urandom(2 * PART + 1000)  # three parts
    stored = bucket.put(iter([data[i:i + 700] for i in range(0, len(data), 700)]), prefix="r")
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and bucket.sha256(stored.key) == stored.sha256
    assert b"".join(bucket.iter_range(stored.key, bucket.part_size - 10, bucket.part_size + 9)) == \
        data[bucket.part_size - 10:bucket.part_size + 10]
    bucket.delete(stored.key)
    with pytest.raises(TooLarge):  # fails in the second part: the multipart upload is aborted
        bucket.put(iter([data[i:i + 700] for i in range(0, len(data), 700)]), limit=PART + 10)

    def refuse(head: bytes) -> None:
        raise Refused("not a recording")

    with pytest.raises(Refused):
        bucket.put(iter([b"MZ" + b"\0" * 100]), check=refuse)
    assert objects(bucket) == [] and uploads(bucket) == []


def test_append_grows_the_object_under_its_key_copying_big_heads_inside_the_server(bucket):
    stored = bucket.put(iter(()), prefix="recordings", suffix=".webm")
    pieces = [b"\x1a\x45\xdf\xa3" + b"a" * 100, b"b" * 500, os.urandom(MIN_PART), os.urandom(3 * PART)]
    size = 0
    for piece in pieces:  # heads under the minimum part (read back and re-sent), then one over (UploadPartCopy)
        size = bucket.append(stored.key, iter([piece]))
    whole = b"".join(pieces)
    assert size == len(whole) == bucket.size(stored.key)
    assert bucket.sha256(stored.key) == hashlib.sha256(whole).hexdigest()
    assert bucket.append(stored.key, iter(())) == len(whole)  # nothing to add
    with pytest.raises(TooLarge):  # over the limit: the object stays as it was
        bucket.append(stored.key, iter([b"c" * 100]), limit=len(whole) + 50)
    assert bucket.sha256(stored.key) == hashlib.sha256(whole).hexdigest() and uploads(bucket) == []
    assert objects(bucket) == [stored.key]


def test_a_presigned_url_serves_the_object_and_its_ranges_to_any_client(bucket):
    stored = bucket.put(iter([WAV]), prefix="recordings")
    url = bucket.presigned_url(stored.key, seconds=60, file_name="调解录音.wav", content_type="audio/wav")
    assert url.startswith(bucket.client.meta.endpoint_url)
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == WAV and resp.headers["Content-Type"] == "audio/wav"
        assert quote("调解录音.wav") in resp.headers["Content-Disposition"]
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=10-19"}), timeout=10) as resp:
        assert resp.status == 206 and resp.read() == WAV[10:20]


# --- the app on the S3 store -----------------------------------------------------------

@pytest.fixture()
def s3_app(app, bucket):
    app.config.update(FILE_STORE="s3", S3_BUCKET=bucket.bucket, S3_ENDPOINT_URL=bucket.client.meta.endpoint_url,
                      **CREDENTIALS)
    return app


def _upload(login_as, case_id, body, name="调解录音.wav"):
    return login_as(MEDIATOR, "MEDIATOR").post(
        f"/case/{case_id}/recordings/upload", data=body,
        headers={"X-File-Name": quote(name), "Content-Type": "application/octet-stream"})


def test_a_recording_round_trips_through_the_bucket_and_goes_with_its_case(s3_app, bucket, login_as):
    app = s3_app
    case_id = make_case(app, status=CaseStatus.MEDIATING, parties=PARTIES)
    with app_ctx(app):
        assert isinstance(file_store(), S3Store)
    resp = _upload(login_as, case_id, WAV)
    assert resp.status_code == 200, text(resp)
    rid = resp.get_json()["id"]
    with app_ctx(app):
        rec = db.session.get(Recording, rid)
        key, sha = rec.file_key, rec.sha256
    assert sha == hashlib.sha256(WAV).hexdigest() and objects(bucket) == [key]
    client = login_as(MEDIATOR, "MEDIATOR")
    media = f"/case/{case_id}/recordings/{rid}/media"
    whole = client.get(media)
    assert whole.status_code == 200 and whole.data == WAV
    part = client.get(media, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == WAV[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(WAV)}"
    assert client.get(media, headers={"Range": f"bytes={len(WAV)}-"}).status_code == 416

    assert login_as("13800000001").post(f"/case/{case_id}/do/delete", data={"confirm": "y"}).status_code == 302
    with app_ctx(app):
        assert db.session.get(Case, case_id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Recording)
                                 .where(Recording.id == rid)) == 0
    assert objects(bucket) == []


def test_a_refused_upload_leaves_the_bucket_empty(s3_app, bucket, login_as):
    case_id = make_case(s3_app, status=CaseStatus.MEDIATING, parties=PARTIES)
    resp = _upload(login_as, case_id, b"MZ\x90\x00" + b"\x00" * 500, "hearing.mp4")
    assert resp.status_code == 400 and "不是录音录像文件" in resp.get_json()["reason"]
    assert objects(bucket) == [] and uploads(bucket) == []


def test_a_large_download_is_redirected_to_a_presigned_url_when_configured(s3_app, bucket, login_as):
    case_id = make_case(s3_app, status=CaseStatus.MEDIATING, parties=PARTIES)
    rid = _upload(login_as, case_id, WAV).get_json()["id"]
    s3_app.config.update(S3_PRESIGN_OVER_BYTES=len(WAV), S3_PRESIGN_SECONDS=60)
    resp = login_as(MEDIATOR, "MEDIATOR").get(f"/case/{case_id}/recordings/{rid}/media?download=1")
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(bucket.client.meta.endpoint_url) and "X-Amz-Signature=" in location
    with urllib.request.urlopen(location, timeout=10) as got:
        assert got.read() == WAV and got.headers["Content-Disposition"].startswith("attachment")
    s3_app.config["S3_PRESIGN_OVER_BYTES"] = len(WAV) + 1  # smaller files still stream through the app
    assert login_as(MEDIATOR, "MEDIATOR").get(f"/case/{case_id}/recordings/{rid}/media").data == WAV
    # the permission check comes first: a party of the case gets no URL
    assert login_as("13500000001", "PARTY").get(f"/case/{case_id}/recordings/{rid}/media").status_code == 403


def test_a_hearing_recording_grows_in_the_bucket_and_is_finished_into_one_object(s3_app, bucket, login_as):
    case_id = make_case(s3_app, status=CaseStatus.MEDIATING, parties=PARTIES)
    hid = _call(login_as, case_id)
    mediator = login_as(MEDIATOR, "MEDIATOR")
    _join(mediator, hid)
    rid = mediator.post(f"/hearing/{hid}/recording", json={}).get_json()["id"]
    first = _webm_head() + b"\x1f\x43\xb6\x75" + b"a" * 100
    assert mediator.post(f"/hearing/{hid}/recording/{rid}/0?elapsed=2000", data=first).status_code == 200
    assert mediator.post(f"/hearing/{hid}/recording/{rid}/1?elapsed=4000", data=b"b" * 50).status_code == 200
    mediator.post(f"/hearing/{hid}/end")  # finishes it: the duration patched into the header, a new object
    with app_ctx(s3_app):
        rec = db.session.get(Recording, rid)
        data = b"".join(file_store().iter_range(rec.file_key))
        assert rec.status.name == "READY" and rec.duration_ms == 4000 and rec.size == len(data)
        assert rec.sha256 == hashlib.sha256(data).hexdigest() and data.endswith(b"a" * 100 + b"b" * 50)
    assert objects(bucket) == [rec.file_key]  # the unpatched original went after the commit
