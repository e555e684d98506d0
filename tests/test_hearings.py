"""视频调解, recordings, 多路视频 on the server side (issue 13; FAQ 4.1, 4.2; SPEC §3.5).

The browsers' side (real WebRTC in chromium) is tests/browser/test_video.py.
"""
from __future__ import annotations

import hashlib
import os
import re
import struct
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import User

from app.enums import CaseStatus, HearingStatus, MultiVideoStatus, RecordingSource, RecordingStatus
from app.extensions import db
from app.models import AuditLog, Case, CaseParty, Hearing, HearingParticipant, Mediator, MultiVideoRequest, Recording
from app.roles import PARTY
from app.storage import DirectoryStore, TooLarge
from app.workflows import DomainError, hearings, multi_video, recordings
from app.workflows.accounts import ensure_account
from app.workflows.actor import SYSTEM, Actor
from app.security import Scope
from app.roles import Portal

from .case_factory import add_agent, court_actor, make_case
from .helpers import PASSWORD, app_ctx, last_sms, text

MEDIATOR = "13900000001"        # 陈静, the case's mediator
OTHER_MEDIATOR = "13900000011"  # 杨帆, 海淀: a mediator of another case
ZHANG, LI, WANG = "13500000001", "13500000002", "13500000003"
OUTSIDER = "13500000009"        # a party of another case only
STRANGER = "13600000001"        # the grassroots liaison: no part in cases
PLATFORM = "13300000001"        # 陈客服, platform support
PARTIES = [("APPLICANT", "张三", ZHANG, "110105198001010013"),
           ("RESPONDENT", "李四", LI, "11010519850505002X")]


@pytest.fixture()
def store(app, tmp_path):
    app.config["FILE_STORE_DIR"] = str(tmp_path / "files")
    return DirectoryStore(str(tmp_path / "files"))


@pytest.fixture()
def case_id(app):
    """A 调解中 case of 陈静 with 张三 (and his special agent 王律师) against 李四."""
    cid = make_case(app, status=CaseStatus.MEDIATING, parties=PARTIES)
    with app_ctx(app):
        applicant = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == cid,
                                                                    CaseParty.phone == ZHANG))
    add_agent(app, applicant, phone=WANG, name="王律师")
    return cid


@pytest.fixture()
def outsider(app):
    """A party account of another 调解中 case."""
    with app_ctx(app):
        ensure_account(OUTSIDER, "周外", [PARTY], password=PASSWORD, notify=False)
        db.session.commit()
    make_case(app, status=CaseStatus.MEDIATING, parties=[("APPLICANT", "周外", OUTSIDER, "110105198001010013"),
                                                         ("RESPONDENT", "李四", LI, "11010519850505002X")])
    return OUTSIDER


def _call(login_as, case_id, sides=("APPLICANT", "RESPONDENT")) -> int:
    resp = login_as(MEDIATOR, "MEDIATOR").post(f"/hearing/case/{case_id}/call", data={"sides": list(sides)})
    assert resp.status_code == 302, text(resp)
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def _join(client, hid):
    return client.post(f"/hearing/{hid}/join", json={})


def _files(root) -> list[str]:
    return [os.path.join(d, f) for d, _s, fs in os.walk(root) for f in fs] if os.path.isdir(root) else []


# --- the state × event tables, written from the FAQ -----------------------------------

# [FAQ 4.1(1), 注意(2)]: call opens (or rejoins) the room; enter/leave keep it open; the mediator ends it
HEARING_TABLE = {
    "call": ({HearingStatus.NEW, HearingStatus.OPEN}, HearingStatus.OPEN, "mediator"),
    "join": ({HearingStatus.OPEN}, HearingStatus.OPEN, "party"),
    "leave": ({HearingStatus.OPEN}, HearingStatus.OPEN, "party"),
    "end": ({HearingStatus.OPEN}, HearingStatus.ENDED, "mediator"),
}
# [FAQ 4.1 注意(3)]: the court admin applies, platform staff approve or reject with a reason
MULTI_VIDEO_TABLE = {
    "submit": ({MultiVideoStatus.NEW}, MultiVideoStatus.PENDING, "court_admin"),
    "approve": ({MultiVideoStatus.PENDING}, MultiVideoStatus.APPROVED, "platform"),
    "reject": ({MultiVideoStatus.PENDING}, MultiVideoStatus.REJECTED, "platform"),
}
# [FAQ 4.1(2), 4.2]: recorded or uploaded by the mediator; the mediator deletes
RECORDING_TABLE = {
    "start": ({RecordingStatus.NEW}, RecordingStatus.RECORDING, "mediator"),
    "upload": ({RecordingStatus.NEW}, RecordingStatus.READY, "mediator"),
    "finish": ({RecordingStatus.RECORDING}, RecordingStatus.READY, "mediator"),
    "delete": ({RecordingStatus.RECORDING, RecordingStatus.READY}, None, "mediator"),
    # recorded by Janus (tests/test_janus.py): stopped, then converted by the worker (or gone when empty)
    "stop": ({RecordingStatus.RECORDING}, RecordingStatus.RECORDING, "mediator"),
    "convert": ({RecordingStatus.NEW, RecordingStatus.RECORDING}, RecordingStatus.READY, "system"),
    "discard": ({RecordingStatus.RECORDING}, None, "system"),
}


def test_the_tables_have_exactly_the_faq_events():
    assert set(HEARING_TABLE) == set(hearings.MACHINE.transitions)
    assert set(MULTI_VIDEO_TABLE) == set(multi_video.MACHINE.transitions)
    assert set(RECORDING_TABLE) == set(recordings.MACHINE.transitions)


def _actor(who):
    if who == "mediator":
        m = db.session.scalar(sa.select(Mediator).where(Mediator.phone == MEDIATOR))
        return Actor(m.user_id, Scope(portal=Portal.MEDIATOR, mediator_id=m.id), m.organisation_id)
    if who == "court_admin":
        return court_actor()
    if who == "platform":
        return Actor(None, Scope(portal=Portal.PLATFORM, is_platform=True))
    user = db.session.scalar(sa.select(User).where(User.username == ZHANG))
    return Actor(user.id, Scope(portal=Portal.PARTY))


def _data(event):
    return {"call": {"sides": ["APPLICANT"]}, "submit": {"reason": "双方均有代理人参加"},
            "reject": {"reason": "理由不充分"}, "delete": {"confirm": True}}.get(event, {})


@pytest.mark.parametrize("event", list(HEARING_TABLE))
@pytest.mark.parametrize("status", list(HearingStatus), ids=lambda s: s.name)
def test_every_room_state_and_event(app, case_id, status, event):
    sources, target, who = HEARING_TABLE[event]
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        hearing = Hearing(case=case, status=status, sides=["APPLICANT"])
        db.session.add(hearing)
        db.session.flush()
        hearings.MACHINE.apply(hearing, "call", _actor("mediator"), sides=["APPLICANT"]) \
            if status is HearingStatus.OPEN else None
        if status in sources:
            hearings.MACHINE.apply(hearing, event, _actor(who), **_data(event))
            assert hearing.status is target
            row = db.session.scalar(sa.select(AuditLog).where(AuditLog.case_id == case_id)
                                    .order_by(AuditLog.id.desc()).limit(1))
            assert row.summary == f"hearing.{event}" and row.after["status"] == target.name
        else:
            with pytest.raises(DomainError) as refused:
                hearings.MACHINE.apply(hearing, event, _actor(who), **_data(event))
            assert "视频房间" in refused.value.message
        db.session.rollback()


@pytest.mark.parametrize("event", list(MULTI_VIDEO_TABLE))
@pytest.mark.parametrize("status", list(MultiVideoStatus), ids=lambda s: s.name)
def test_every_multi_video_state_and_event(app, case_id, status, event):
    sources, target, who = MULTI_VIDEO_TABLE[event]
    with app_ctx(app):
        request = MultiVideoRequest(case=db.session.get(Case, case_id), status=status, reason="x")
        db.session.add(request)
        db.session.flush()
        if status in sources:
            multi_video.MACHINE.apply(request, event, _actor(who), **_data(event))
            assert request.status is target
        else:
            with pytest.raises(DomainError) as refused:
                multi_video.MACHINE.apply(request, event, _actor(who), **_data(event))
            assert "多路视频申请" in refused.value.message
        db.session.rollback()


@pytest.mark.parametrize("event", ["finish", "delete"])
@pytest.mark.parametrize("status", list(RecordingStatus), ids=lambda s: s.name)
def test_every_recording_state_and_event(app, case_id, store, status, event):
    sources, target, who = RECORDING_TABLE[event]
    with app_ctx(app):
        key = DirectoryStore(store.root).put(iter([b"RIFF\0\0\0\0WAVEfmt "]), prefix="recordings").key
        rec = Recording(case=db.session.get(Case, case_id), status=status, source=RecordingSource.UPLOADED,
                        file_key=key, file_name="a.wav", content_type="audio/wav", size=16)
        db.session.add(rec)
        db.session.flush()
        if status in sources:
            recordings.MACHINE.apply(rec, event, _actor(who), **_data(event))
            assert sa.inspect(rec).was_deleted if target is None else rec.status is target
        else:
            with pytest.raises(DomainError) as refused:
                recordings.MACHINE.apply(rec, event, _actor(who), **_data(event))
            assert "录像" in refused.value.message
        db.session.rollback()


# --- calling, entering, leaving [FAQ 4.1(1), 注意(2)] ---------------------------------

def test_video_call_invites_the_chosen_side_by_sms_and_portal_banner(app, login_as, case_id):
    hid = _call(login_as, case_id, sides=("APPLICANT",))
    assert "加入视频" in last_sms(app, ZHANG) and "陈静" in last_sms(app, ZHANG)
    assert "加入视频" in (last_sms(app, WANG) or "")  # the applicant's agent too
    assert f"/hearing/{hid}" in text(login_as(ZHANG, "PARTY").get("/portal/"))
    assert f"/hearing/{hid}" not in text(login_as(LI, "PARTY").get("/portal/"))  # not called
    assert _join(login_as(LI, "PARTY"), hid).status_code == 403


def test_a_second_call_while_the_room_is_live_rejoins_it(app, login_as, case_id):
    first = _call(login_as, case_id, sides=("APPLICANT",))
    second = _call(login_as, case_id, sides=("RESPONDENT",))
    assert first == second
    assert _join(login_as(LI, "PARTY"), second).status_code == 200


def test_call_needs_a_side_and_a_mediating_case(app, login_as, case_id):
    mediator = login_as(MEDIATOR, "MEDIATOR")
    mediator.post(f"/hearing/case/{case_id}/call", data={})
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Hearing)
                                 .where(Hearing.case_id == case_id)) == 0
    ended = make_case(app, status=CaseStatus.TERMINATED, parties=PARTIES)
    assert mediator.get(f"/hearing/case/{ended}").status_code == 200
    resp = mediator.post(f"/hearing/case/{ended}/call", data={"sides": ["APPLICANT"]}, follow_redirects=True)
    assert "仅案件调解中时可以视频调解" in text(resp)


def test_closing_the_page_leaves_the_room_open_and_reentering_resumes(app, login_as, case_id):
    hid = _call(login_as, case_id)
    mediator, zhang = login_as(MEDIATOR, "MEDIATOR"), login_as(ZHANG, "PARTY")
    first = _join(mediator, hid).get_json()["session"]
    z = _join(zhang, hid).get_json()["session"]
    mediator.post(f"/hearing/{hid}/leave", data={"session": first})  # the page's beacon
    roster = zhang.get(f"/hearing/{hid}/signals?session={z}&after=0").get_json()
    assert roster["open"] and [r["name"] for r in roster["roster"]] == ["张三"]
    again = _join(mediator, hid).get_json()["session"]
    assert again > first
    roster = zhang.get(f"/hearing/{hid}/signals?session={z}&after=0").get_json()
    assert sorted(r["name"] for r in roster["roster"]) == ["张三", "陈静"]
    # the old page of the mediator is told it left
    assert mediator.get(f"/hearing/{hid}/signals?session={first}&after=0").status_code == 409
    with app_ctx(app):
        events = [r.after["event"] for r in db.session.scalars(
            sa.select(AuditLog).where(AuditLog.case_id == case_id, AuditLog.action == "TRANSITION")
            .order_by(AuditLog.id))]
    assert events == ["call", "join", "join", "leave", "join"]


def test_signals_reach_only_the_addressed_page(app, login_as, case_id):
    hid = _call(login_as, case_id)
    mediator, zhang, li = login_as(MEDIATOR, "MEDIATOR"), login_as(ZHANG, "PARTY"), login_as(LI, "PARTY")
    m, z, l_ = (_join(c, hid).get_json()["session"] for c in (mediator, zhang, li))
    assert li.post(f"/hearing/{hid}/signals", json={"session": l_, "to": m, "kind": "offer",
                                                    "data": {"type": "offer", "sdp": "v=0"}}).status_code == 200
    got = mediator.get(f"/hearing/{hid}/signals?session={m}&after={m}").get_json()["signals"]
    assert [(s["kind"], s["from"], s["data"]["sdp"]) for s in got if s["kind"] == "offer"] == [("offer", l_, "v=0")]
    assert not [s for s in zhang.get(f"/hearing/{hid}/signals?session={z}&after=0").get_json()["signals"]
                if s["kind"] == "offer"]
    bad = li.post(f"/hearing/{hid}/signals", json={"session": l_, "to": m, "kind": "script", "data": {}})
    assert bad.status_code == 400 and "未知" in bad.get_json()["reason"]


def test_ending_the_room_says_so_and_offers_a_fresh_call(app, login_as, case_id):
    hid = _call(login_as, case_id)
    mediator, zhang = login_as(MEDIATOR, "MEDIATOR"), login_as(ZHANG, "PARTY")
    z = _join(zhang, hid).get_json()["session"]
    mediator.post(f"/hearing/{hid}/end")
    assert zhang.get(f"/hearing/{hid}/signals?session={z}&after=0").get_json()["open"] is False
    assert "视频房间已解散" in text(zhang.get(f"/hearing/{hid}"))
    assert "发起新的视频呼叫" in text(mediator.get(f"/hearing/{hid}"))
    assert _join(zhang, hid).status_code == 400
    assert _call(login_as, case_id) != hid


ROOM_URLS = ["/hearing/{hid}", "/hearing/{hid}/signals?session=1&after=0"]


@pytest.mark.parametrize("who,portal", [(OUTSIDER, "PARTY"), (STRANGER, "GRASSROOTS"),
                                        (OTHER_MEDIATOR, "MEDIATOR"), ("13800000011", "COURT")])
def test_others_get_403_for_the_room_its_signals_and_its_recordings(app, login_as, case_id, outsider, store,
                                                                     who, portal):
    hid = _call(login_as, case_id)
    rid = _upload(login_as, case_id, WAV).get_json()["id"]
    client = login_as(who, portal)
    for url in ROOM_URLS + [f"/hearing/case/{case_id}", f"/case/{case_id}/recordings",
                            f"/case/{case_id}/recordings/{rid}/media"]:
        assert client.get(url.format(hid=hid)).status_code == 403, url
    for url in (f"/hearing/{hid}/join", f"/hearing/{hid}/signals", f"/hearing/{hid}/recording",
                f"/case/{case_id}/recordings/{rid}/delete"):
        assert client.post(url, json={"session": 1, "to": 1, "kind": "offer"}).status_code == 403, url
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HearingParticipant).where(
            HearingParticipant.hearing_id == hid, HearingParticipant.session.is_not(None))) == 0
        assert db.session.get(Recording, rid) is not None


# --- 多路视频 [FAQ 4.1 注意(3)] -------------------------------------------------------------

def test_a_third_participant_is_refused_before_approval_and_admitted_after(app, login_as, case_id):
    hid = _call(login_as, case_id)
    for client in (login_as(MEDIATOR, "MEDIATOR"), login_as(ZHANG, "PARTY"), login_as(LI, "PARTY")):
        assert _join(client, hid).status_code == 200
    wang = login_as(WANG, "AGENT")
    refused = _join(wang, hid)
    assert refused.status_code == 400 and "张三" in refused.get_json()["reason"]
    assert "多路视频申请" in refused.get_json()["reason"]

    admin = login_as("13800000001")
    assert "多路视频申请" in text(admin.get(f"/case/{case_id}"))
    admin.post(f"/case/{case_id}/multi-video", data={"reason": "申请人及其代理人需同时参加"})
    with app_ctx(app):
        req = db.session.scalar(sa.select(MultiVideoRequest).where(MultiVideoRequest.case_id == case_id))
        assert req.status is MultiVideoStatus.PENDING
        rid = req.id
    assert "待审核" in text(admin.get(f"/case/{case_id}"))
    assert _join(wang, hid).status_code == 400

    platform = login_as(PLATFORM, "PLATFORM")
    assert "申请人及其代理人需同时参加" in text(platform.get("/multi-video/"))
    platform.post(f"/multi-video/{rid}/approve")
    assert "已通过" in text(admin.get(f"/case/{case_id}"))
    assert _join(wang, hid).status_code == 200


@pytest.mark.parametrize("who,portal", [("13800000001", "COURT"), (MEDIATOR, "MEDIATOR"), (ZHANG, "PARTY")])
def test_the_review_is_refused_to_anyone_but_platform_staff(app, login_as, case_id, who, portal):
    login_as("13800000001").post(f"/case/{case_id}/multi-video", data={"reason": "多方参加"})
    with app_ctx(app):
        rid = db.session.scalar(sa.select(MultiVideoRequest.id).where(MultiVideoRequest.case_id == case_id))
    client = login_as(who, portal)
    assert client.get("/multi-video/").status_code == 403
    assert client.get(f"/multi-video/{rid}").status_code == 403
    assert client.post(f"/multi-video/{rid}/approve").status_code == 403
    with app_ctx(app):
        assert db.session.get(MultiVideoRequest, rid).status is MultiVideoStatus.PENDING


def test_rejecting_needs_a_reason_and_the_court_may_apply_again(app, login_as, case_id):
    admin = login_as("13800000001")
    admin.post(f"/case/{case_id}/multi-video", data={"reason": "多方参加"})
    assert "已有多路视频申请" in text(admin.post(f"/case/{case_id}/multi-video", data={"reason": "再次"},
                                             follow_redirects=True))
    with app_ctx(app):
        rid = db.session.scalar(sa.select(MultiVideoRequest.id).where(MultiVideoRequest.case_id == case_id))
    platform = login_as(PLATFORM, "PLATFORM")
    assert "请填写理由" in text(platform.post(f"/multi-video/{rid}/reject", data={"reason": ""},
                                         follow_redirects=True))
    platform.post(f"/multi-video/{rid}/reject", data={"reason": "当事人信息不全"})
    assert "当事人信息不全" in text(admin.get(f"/case/{case_id}"))
    admin.post(f"/case/{case_id}/multi-video", data={"reason": "已补全当事人信息"})
    with app_ctx(app):
        assert [r.status for r in multi_video.requests_of(db.session.get(Case, case_id))] == [
            MultiVideoStatus.PENDING, MultiVideoStatus.REJECTED]


def test_the_mediator_cannot_apply_for_multi_party_video(app, login_as, case_id):
    assert login_as(MEDIATOR, "MEDIATOR").post(f"/case/{case_id}/multi-video",
                                               data={"reason": "x"}).status_code == 403


# --- uploads, playback, deletion [FAQ 4.1(2), 4.2, 3.3] -------------------------------------

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 100
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 100
M4A = b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomiso2" + b"\x00" * 100


def _upload(login_as, case_id, body, name="调解录音.wav"):
    return login_as(MEDIATOR, "MEDIATOR").post(
        f"/case/{case_id}/recordings/upload", data=body,
        headers={"X-File-Name": quote(name), "Content-Type": "application/octet-stream"})


@pytest.mark.parametrize("body,name,kind", [(WAV, "a.wav", "audio/wav"), (MP3, "b.mp3", "audio/mpeg"),
                                            (MP4, "c.mp4", "video/mp4"), (M4A, "d.m4a", "audio/mp4")])
def test_upload_checks_the_content_and_keeps_size_and_hash(app, login_as, case_id, store, body, name, kind):
    resp = _upload(login_as, case_id, body, name)
    assert resp.status_code == 200, text(resp)
    with app_ctx(app):
        rec = db.session.get(Recording, resp.get_json()["id"])
        assert (rec.content_type, rec.size, rec.sha256) == (kind, len(body), hashlib.sha256(body).hexdigest())
        assert rec.status is RecordingStatus.READY and rec.file_name == name
        assert store.exists(rec.file_key)


@pytest.mark.parametrize("body,name,message", [
    (b"MZ\x90\x00" + b"\x00" * 500, "hearing.mp4", "不是录音录像文件"),
    (b"", "empty.wav", "文件为空"),
    (WAV * 3, "big.wav", "超过大小上限"),
])
def test_a_renamed_exe_an_empty_file_and_one_over_the_limit_are_refused_and_nothing_stored(
        app, login_as, case_id, store, body, name, message):
    app.config["RECORDING_MAX_BYTES"] = len(WAV) * 2
    resp = _upload(login_as, case_id, body, name)
    assert resp.status_code == 400 and message in resp.get_json()["reason"], resp.get_json()
    assert _files(store.root) == []
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Recording)
                                 .where(Recording.case_id == case_id)) == 0


def test_an_upload_larger_than_a_form_may_be_is_taken_and_checks_its_csrf_token(app, login_as, case_id, store):
    mediator = login_as(MEDIATOR, "MEDIATOR")
    app.config.update(WTF_CSRF_ENABLED=True, MAX_CONTENT_LENGTH=1000)  # a form's limit, not a recording's
    page = text(mediator.get(f"/case/{case_id}/recordings/upload"))
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    url, headers = f"/case/{case_id}/recordings/upload", {"X-File-Name": "a.wav",
                                                          "Content-Type": "application/octet-stream"}
    assert mediator.post(url, data=WAV, headers=headers).status_code == 400  # no token
    assert _files(store.root) == []
    resp = mediator.post(url, data=WAV, headers={**headers, "X-CSRFToken": token})
    assert resp.status_code == 200 and len(WAV) > 1000


def test_an_upload_over_the_limit_without_a_declared_length_stops_while_streaming(app, case_id, store):
    app.config["RECORDING_MAX_BYTES"] = 1000
    with app_ctx(app):
        with pytest.raises(TooLarge):
            DirectoryStore(store.root).put(iter([WAV] * 10), limit=1000)
    assert [f for f in _files(store.root)] == []


def test_range_requests_answer_206_with_the_right_bytes_and_416_past_the_end(app, login_as, case_id, store):
    rid = _upload(login_as, case_id, WAV).get_json()["id"]
    for who, portal in ((MEDIATOR, "MEDIATOR"), ("13800000002", "COURT")):  # the mediator and the court
        client = login_as(who, portal)
        whole = client.get(f"/case/{case_id}/recordings/{rid}/media")
        assert whole.status_code == 200 and whole.data == WAV and whole.headers["Accept-Ranges"] == "bytes"
        part = client.get(f"/case/{case_id}/recordings/{rid}/media", headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.data == WAV[100:200]
        assert part.headers["Content-Range"] == f"bytes 100-199/{len(WAV)}"
        tail = client.get(f"/case/{case_id}/recordings/{rid}/media", headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.data == WAV[-10:]
        past = client.get(f"/case/{case_id}/recordings/{rid}/media", headers={"Range": f"bytes={len(WAV)}-"})
        assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(WAV)}"


def test_the_court_sees_recordings_but_only_the_mediator_deletes(app, login_as, case_id, store):
    rid = _upload(login_as, case_id, WAV).get_json()["id"]
    court = login_as("13800000002")
    assert "调解录音.wav" in text(court.get(f"/case/{case_id}/recordings"))
    assert "调解录音.wav" in text(court.get(f"/case/{case_id}"))  # listed on the case page
    assert court.post(f"/case/{case_id}/recordings/{rid}/delete", data={"confirm": "y"}).status_code == 403
    assert court.get(f"/case/{case_id}/recordings/upload").status_code == 403


def test_deleting_a_recording_needs_confirmation_is_audited_and_removes_the_file(app, login_as, case_id, store):
    rid = _upload(login_as, case_id, WAV).get_json()["id"]
    with app_ctx(app):
        key = db.session.get(Recording, rid).file_key
    mediator = login_as(MEDIATOR, "MEDIATOR")
    mediator.post(f"/case/{case_id}/recordings/{rid}/delete", data={})
    assert store.exists(key)
    mediator.post(f"/case/{case_id}/recordings/{rid}/delete", data={"confirm": "y"})
    assert not store.exists(key)
    with app_ctx(app):
        assert db.session.get(Recording, rid) is None
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.summary == "recording.delete"))
        assert row.case_id == case_id and row.before["status"] == "READY"


def test_deleting_the_case_deletes_its_recordings_files(app, login_as, case_id, store):
    rid = _upload(login_as, case_id, WAV).get_json()["id"]
    with app_ctx(app):
        key = db.session.get(Recording, rid).file_key
    resp = login_as("13800000001").post(f"/case/{case_id}/do/delete", data={"confirm": "y"})
    assert resp.status_code == 302
    with app_ctx(app):
        assert db.session.get(Case, case_id) is None and db.session.get(Recording, rid) is None
    assert not store.exists(key)


def test_upload_is_for_a_mediating_case_only(app, login_as, store):
    ended = make_case(app, status=CaseStatus.TERMINATED, parties=PARTIES)
    resp = _upload(login_as, ended, WAV)
    assert resp.status_code == 400 and "调解中" in resp.get_json()["reason"]


# --- a recorded hearing ------------------------------------------------------------------

def _webm_head(timecode_scale=1_000_000) -> bytes:
    ebml = b"\x1a\x45\xdf\xa3" + bytes([0x80 | 15]) + b"\x42\x82\x84webm" + b"\x42\x87\x81\x04" + b"\x42\x85\x81\x02"
    scale = b"\x2a\xd7\xb1\x83" + timecode_scale.to_bytes(3, "big")
    app_name = b"\x4d\x80\x84test"
    info = b"\x15\x49\xa9\x66" + bytes([0x80 | len(scale + app_name)]) + scale + app_name
    return ebml + b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" + info


def test_webm_duration_is_written_into_the_header():
    head = _webm_head() + b"\x1f\x43\xb6\x75" + b"cluster-bytes"
    prefix, consumed = recordings.webm_duration_patch(head, 12_345)
    patched = prefix + head[consumed:]
    assert patched.endswith(b"\x1f\x43\xb6\x75cluster-bytes")
    at = patched.index(b"\x44\x89\x88")
    assert struct.unpack(">d", patched[at + 3:at + 11])[0] == 12_345.0
    assert recordings.webm_duration_patch(patched, 1) is None  # already has one
    assert recordings.webm_duration_patch(b"RIFF....WAVE", 1) is None


def test_a_hearing_recording_grows_chunk_by_chunk_and_is_finished_when_the_room_ends(app, login_as, case_id,
                                                                                     store):
    hid = _call(login_as, case_id)
    mediator = login_as(MEDIATOR, "MEDIATOR")
    _join(mediator, hid)
    rid = mediator.post(f"/hearing/{hid}/recording", json={}).get_json()["id"]
    first = _webm_head() + b"\x1f\x43\xb6\x75" + b"a" * 100
    assert mediator.post(f"/hearing/{hid}/recording/{rid}/0?elapsed=2000", data=first).status_code == 200
    assert mediator.post(f"/hearing/{hid}/recording/{rid}/0?elapsed=2000", data=first).status_code == 200  # retry
    assert mediator.post(f"/hearing/{hid}/recording/{rid}/2", data=b"c").status_code == 409
    assert mediator.post(f"/hearing/{hid}/recording/{rid}/1?elapsed=4000", data=b"b" * 50).status_code == 200
    with app_ctx(app):
        rec = db.session.get(Recording, rid)
        assert (rec.status, rec.size, rec.chunks) == (RecordingStatus.RECORDING, len(first) + 50, 2)
    assert login_as(ZHANG, "PARTY").post(f"/hearing/{hid}/recording/{rid}/2", data=b"x").status_code == 403
    mediator.post(f"/hearing/{hid}/end")  # the tab never said "stop": the room's end finishes it
    with app_ctx(app):
        rec = db.session.get(Recording, rid)
        assert rec.status is RecordingStatus.READY and rec.duration_ms == 4000 and rec.sha256
        data = b"".join(store.iter_range(rec.file_key))
        assert data.endswith(b"a" * 100 + b"b" * 50) and b"\x44\x89\x88" in data[:200]
    assert len(_files(store.root)) == 1  # the unpatched original went after the commit


def test_the_first_chunk_must_be_webm(app, login_as, case_id, store):
    hid = _call(login_as, case_id)
    mediator = login_as(MEDIATOR, "MEDIATOR")
    rid = mediator.post(f"/hearing/{hid}/recording", json={}).get_json()["id"]
    resp = mediator.post(f"/hearing/{hid}/recording/{rid}/0", data=b"MZ" + b"\0" * 100)
    assert resp.status_code == 400 and "WebM" in resp.get_json()["reason"]


def test_case_page_shows_the_buttons_by_who_may_use_them(app, login_as, case_id):
    mediator = text(login_as(MEDIATOR, "MEDIATOR").get(f"/case/{case_id}"))
    assert all(b in mediator for b in ("视频调解", "上传录音录像", "查看录像")) and "多路视频申请</a>" not in mediator
    court = text(login_as("13800000002").get(f"/case/{case_id}"))
    assert "查看录像" in court and "视频调解</a>" not in court and "上传录音录像" not in court
    assert "多路视频申请" not in court  # a court user, not the admin
    assert "多路视频申请" in text(login_as("13800000001").get(f"/case/{case_id}"))


def test_the_system_finishes_a_recording_left_open(app, case_id, store):
    with app_ctx(app):
        key = DirectoryStore(store.root).put(iter([b"x"])).key
        rec = Recording(case=db.session.get(Case, case_id), status=RecordingStatus.RECORDING,
                        source=RecordingSource.RECORDED, file_key=key, file_name="r.webm",
                        content_type="video/webm", size=1)
        db.session.add(rec)
        db.session.flush()
        recordings.finish(rec, SYSTEM)
        assert rec.status is RecordingStatus.READY
        db.session.rollback()
