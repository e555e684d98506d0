"""视频调解 through Janus (VIDEO_BACKEND=janus, issue 17 item 8): the adapter against a real Janus, and the
room's permission model unchanged — only those the room admits get its credentials.

The browsers' side (three chromium pages through the SFU) is tests/browser/test_video_janus.py.
"""
from __future__ import annotations

import json
import os
import re
import urllib.request

import pytest
import sqlalchemy as sa

from app import janus
from app.enums import MultiVideoStatus, RecordingStatus
from app.extensions import db
from app.models import AuditLog, Hearing, HearingParticipant, MultiVideoRequest, Recording
from app.workflows import recordings

from .helpers import app_ctx, logged_in
from .test_hearings import (LI, MEDIATOR, OTHER_MEDIATOR, OUTSIDER, PLATFORM, STRANGER, WANG, ZHANG, _call,
                            _join, case_id, outsider)  # noqa: F401 (fixtures)


@pytest.fixture()
def server(janus_server) -> janus.Janus:
    return janus.from_config(janus_server.config())


@pytest.fixture()
def sfu_app(app, janus_server):
    app.config.update(janus_server.config())
    return app


def _post(url, body) -> dict:
    req = urllib.request.Request(url, data=json.dumps({**body, "transaction": "t"}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read().decode())


def _session_with(janus_server, token) -> dict:
    """What a browser holding `token` gets when it opens a Janus session."""
    return _post(janus_server.url, {"janus": "create", "token": token})


def _browser_joins(janus_server, room, pin, token) -> dict:
    """A browser's VideoRoom join as a publisher with these credentials: the plugin's answer."""
    sid = _session_with(janus_server, token)["data"]["id"]
    hid = _post(f"{janus_server.url}/{sid}", {"janus": "attach", "plugin": janus.VIDEOROOM, "token": token})["data"]["id"]
    _post(f"{janus_server.url}/{sid}/{hid}", {"janus": "message", "token": token, "body": {
        "request": "join", "ptype": "publisher", "room": room, "pin": pin, "token": token}})
    with urllib.request.urlopen(f"{janus_server.url}/{sid}?maxev=1&token={token}", timeout=10) as resp:
        event = json.loads(resp.read().decode())
    event = event[0] if isinstance(event, list) else event
    _post(f"{janus_server.url}/{sid}", {"janus": "destroy", "token": token})
    return event["plugindata"]["data"]


# --- the adapter ------------------------------------------------------------------------

def test_a_room_is_created_with_its_secret_admits_by_token_and_is_destroyed(server, janus_server):
    room, secret, pin = janus.new_room_id(), janus.new_secret(), janus.new_secret()
    server.create_room(room, secret, pin, publishers=3, description="test")
    assert server.exists(room)
    token = janus.new_secret()
    assert _session_with(janus_server, token)["janus"] == "error"  # not issued yet
    server.admit(room, secret, token)
    assert _browser_joins(janus_server, room, pin, token)["videoroom"] == "joined"
    assert _browser_joins(janus_server, room, "wrong-pin", token).get("error_code")  # the pin is needed too
    server.revoke(room, secret, token)
    assert _session_with(janus_server, token)["janus"] == "error"
    with pytest.raises(janus.JanusError):  # only the room's secret destroys it
        server.videoroom({"request": "destroy", "room": room, "secret": "guess"})
    server.destroy_room(room, secret)
    assert not server.exists(room)
    server.destroy_room(room, secret)  # gone already: nothing to do


def test_the_repositorys_configuration_loads_only_videoroom_and_http_on_loopback(janus_server):
    log = open(os.path.join(janus_server.dir, "log"), encoding="utf-8", errors="replace").read()
    plugins = re.findall(r"Loading plugin '([^']+)'", log)
    transports = re.findall(r"Loading transport plugin '([^']+)'", log)
    assert plugins == ["libjanus_videoroom.so"] and transports == ["libjanus_http.so"]
    conf = open(os.path.join(janus_server.dir, "conf", "janus.transport.http.jcfg"), encoding="utf-8").read()
    assert 'ip = "127.0.0.1"' in conf and 'admin_ip = "127.0.0.1"' in conf
    videoroom = open(os.path.join(janus_server.dir, "conf", "janus.plugin.videoroom.jcfg"), encoding="utf-8").read()
    assert "room-" not in videoroom  # no demo rooms


def test_the_api_refuses_requests_without_the_secret(janus_server):
    assert _post(janus_server.url, {"janus": "create"})["error"]["code"] == 403
    bad = janus.Janus(janus_server.url, janus_server.admin_url, "guess", "guess")
    with pytest.raises(janus.JanusError):
        bad.exists(1)
    with pytest.raises(janus.JanusError):
        bad.tokens()


def test_rooms_can_only_be_created_with_the_admin_key(janus_server, server):
    with pytest.raises(janus.JanusError):
        server.videoroom({"request": "create", "room": janus.new_room_id(), "publishers": 2})


# --- the room through Janus -------------------------------------------------------------

def test_mesh_is_the_default_and_its_join_carries_no_sfu_credentials(app, login_as, case_id):
    assert app.config["VIDEO_BACKEND"] == "mesh" and janus.from_config(app.config) is None
    hid = _call(login_as, case_id)
    assert _join(login_as(ZHANG, "PARTY"), hid).get_json()["sfu"] is None
    assert "connect-src 'self';" in login_as(MEDIATOR, "MEDIATOR").get(f"/hearing/{hid}").headers[
        "Content-Security-Policy"]


def test_a_call_creates_the_rooms_sfu_room_and_each_entry_gets_a_token_of_its_own(sfu_app, login_as, case_id,
                                                                                  server, janus_server):
    hid = _call(login_as, case_id)
    with app_ctx(sfu_app):
        hearing = db.session.get(Hearing, hid)
        room, secret, pin = hearing.sfu_room, hearing.sfu_secret, hearing.sfu_pin
    assert room and server.exists(room) and len(secret) >= 24 and len(pin) >= 24
    page = login_as(MEDIATOR, "MEDIATOR").get(f"/hearing/{hid}")
    assert pin not in page.get_data(as_text=True) and secret not in page.get_data(as_text=True)
    assert "http://127.0.0.1:%d" % janus_server.port in page.headers["Content-Security-Policy"]

    zhang = login_as(ZHANG, "PARTY")
    first = _join(zhang, hid).get_json()
    creds = first["sfu"]
    assert creds["room"] == room and creds["pin"] == pin and creds["feed"] == first["session"]
    assert creds["token"] in server.tokens()
    assert _browser_joins(janus_server, room, pin, creds["token"])["videoroom"] == "joined"

    again = _join(zhang, hid).get_json()["sfu"]  # a second page of his: the first one's token is void
    assert again["token"] != creds["token"]
    assert creds["token"] not in server.tokens() and again["token"] in server.tokens()

    zhang.post(f"/hearing/{hid}/leave", data={"session": again["feed"]})
    assert again["token"] not in server.tokens()
    li = _join(login_as(LI, "PARTY"), hid).get_json()["sfu"]
    login_as(MEDIATOR, "MEDIATOR").post(f"/hearing/{hid}/end")
    assert not server.exists(room) and li["token"] not in server.tokens()
    with app_ctx(sfu_app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HearingParticipant).where(
            HearingParticipant.hearing_id == hid, HearingParticipant.sfu_token.is_not(None))) == 0


@pytest.mark.parametrize("who,portal", [(OUTSIDER, "PARTY"), (STRANGER, "GRASSROOTS"),
                                        (OTHER_MEDIATOR, "MEDIATOR"), ("13800000011", "COURT")])
def test_others_get_403_and_no_credentials(sfu_app, login_as, case_id, outsider, server, who, portal):
    hid = _call(login_as, case_id)
    before = set(server.tokens())
    # not login_as: its cached cookie would name this test's (rolled back) account in test_hearings.py
    client = logged_in(sfu_app, who, portal)
    for resp in (client.get(f"/hearing/{hid}"), client.post(f"/hearing/{hid}/join", json={})):
        assert resp.status_code == 403
        body = resp.get_data(as_text=True)
        with app_ctx(sfu_app):
            hearing = db.session.get(Hearing, hid)
            assert hearing.sfu_pin not in body and str(hearing.sfu_room) not in body
    assert set(server.tokens()) == before


def test_an_uninvited_side_gets_403_and_a_second_person_of_a_side_no_credentials(sfu_app, login_as, case_id,
                                                                                  server):
    hid = _call(login_as, case_id, sides=("APPLICANT",))
    assert _join(login_as(LI, "PARTY"), hid).status_code == 403  # 李四's side was not called
    assert _join(login_as(ZHANG, "PARTY"), hid).status_code == 200
    before = set(server.tokens())
    refused = _join(login_as(WANG, "AGENT"), hid)  # 张三's agent: one per side before 多路视频
    assert refused.status_code == 400 and "sfu" not in refused.get_json() and set(server.tokens()) == before


def test_the_cap_through_janus_is_its_own_setting_and_still_needs_the_approval(sfu_app, login_as, case_id):
    sfu_app.config.update(VIDEO_MAX_PARTICIPANTS=2, VIDEO_MAX_PARTICIPANTS_SFU=3)
    hid = _call(login_as, case_id)
    for client in (login_as(MEDIATOR, "MEDIATOR"), login_as(ZHANG, "PARTY")):
        assert _join(client, hid).status_code == 200
    assert _join(login_as(WANG, "AGENT"), hid).status_code == 400  # not approved: one per side
    with app_ctx(sfu_app):
        db.session.add(MultiVideoRequest(case_id=case_id, status=MultiVideoStatus.APPROVED, reason="x"))
        db.session.commit()
    assert _join(login_as(WANG, "AGENT"), hid).status_code == 200  # 3 > the mesh's 2, within the SFU's 3
    full = _join(login_as(LI, "PARTY"), hid)
    assert full.status_code == 400 and "3" in full.get_json()["reason"]


def test_janus_unreachable_refuses_the_call_with_a_reason_and_changes_nothing(sfu_app, login_as, case_id):
    sfu_app.config.update(JANUS_API_URL="http://127.0.0.1:9/janus", JANUS_TIMEOUT_SECONDS=2)
    resp = login_as(MEDIATOR, "MEDIATOR").post(f"/hearing/case/{case_id}/call", data={"sides": ["APPLICANT"]},
                                               follow_redirects=True)
    assert "视频服务器" in resp.get_data(as_text=True)
    with app_ctx(sfu_app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Hearing).where(
            Hearing.case_id == case_id)) == 0
        assert not db.session.scalar(sa.select(AuditLog.id).where(AuditLog.case_id == case_id,
                                                                   AuditLog.summary == "hearing.call"))


# --- recording on the server ------------------------------------------------------------

def test_recording_through_janus_is_started_and_stopped_on_the_server(sfu_app, login_as, case_id, janus_server):
    hid = _call(login_as, case_id)
    mediator = login_as(MEDIATOR, "MEDIATOR")
    m = _join(mediator, hid).get_json()["session"]
    _join(login_as(ZHANG, "PARTY"), hid)
    assert '"server_recording": true' in mediator.get(f"/hearing/{hid}").get_data(as_text=True)
    rid = mediator.post(f"/hearing/{hid}/recording").get_json()["id"]
    with app_ctx(sfu_app):
        rec = db.session.get(Recording, rid)
        assert rec.status is RecordingStatus.RECORDING and rec.sfu_dir and rec.file_key == ""
        assert set(rec.sfu_feeds.values()) == {"陈静", "张三"} and str(m) in rec.sfu_feeds
    # no bytes come from the browser, and the list shows it as being converted, with nothing to play
    assert mediator.post(f"/hearing/{hid}/recording/{rid}/0", data=b"\x1a\x45\xdf\xa3").status_code == 400
    assert mediator.get(f"/case/{case_id}/recordings/{rid}/media").status_code == 404
    assert "服务器转换中" in mediator.get(f"/case/{case_id}/recordings").get_data(as_text=True)
    assert login_as(ZHANG, "PARTY").post(f"/hearing/{hid}/recording/{rid}/finish", json={}).status_code == 403

    assert mediator.post(f"/hearing/{hid}/recording/{rid}/finish", json={"duration_ms": 4000}).status_code == 200
    with app_ctx(sfu_app):
        rec = db.session.get(Recording, rid)
        assert rec.status is RecordingStatus.RECORDING and rec.finished_at and rec.duration_ms == 4000
        events = [r.after["event"] for r in db.session.scalars(
            sa.select(AuditLog).where(AuditLog.case_id == case_id, AuditLog.summary.like("recording.%")))]
        assert events == ["start", "stop"]
        assert recordings.convert_next() is None  # Janus's files settle first
        rec.finished_at -= recordings.SETTLE
        db.session.commit()
        folder = recordings.convert_next()  # nobody here published media: nothing was recorded
        db.session.commit()
        assert folder.startswith(janus_server.recordings) and db.session.get(Recording, rid) is None


@pytest.mark.parametrize("stopped_first", [True, False])
def test_a_server_recording_deleted_before_its_conversion_leaves_no_raw_files(sfu_app, login_as, case_id,
                                                                            janus_server, stopped_first):
    """[FAQ 4.1] 删除 a recording Janus is making or has made but the worker has not converted yet: Janus
    stops writing (if it still was), and the raw folder goes once the deletion commits."""
    hid = _call(login_as, case_id)
    mediator = login_as(MEDIATOR, "MEDIATOR")
    _join(mediator, hid)
    rid = mediator.post(f"/hearing/{hid}/recording").get_json()["id"]
    if stopped_first:
        assert mediator.post(f"/hearing/{hid}/recording/{rid}/finish", json={}).status_code == 200
    with app_ctx(sfu_app):
        rec = db.session.get(Recording, rid)
        folder = os.path.join(janus_server.recordings, rec.sfu_dir)
        version = rec.version
    os.makedirs(folder, exist_ok=True)  # what Janus wrote for a published stream
    with open(os.path.join(folder, "videoroom-1-user-2-3-video.mjr"), "wb") as f:
        f.write(b"MJR00002")
    refused = mediator.post(f"/case/{case_id}/recordings/{rid}/delete", data={"version": version})
    assert refused.status_code == 302 and os.path.isdir(folder)  # not confirmed: nothing happens
    resp = mediator.post(f"/case/{case_id}/recordings/{rid}/delete", data={"confirm": "y", "version": version})
    assert resp.status_code == 302
    with app_ctx(sfu_app):
        assert db.session.get(Recording, rid) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.case_id == case_id, AuditLog.summary == "recording.delete")) == 1
    assert not os.path.exists(folder)


def test_without_a_recordings_folder_the_browser_records_as_in_the_mesh(sfu_app, login_as, case_id):
    sfu_app.config["JANUS_RECORDINGS_DIR"] = ""
    hid = _call(login_as, case_id)
    mediator = login_as(MEDIATOR, "MEDIATOR")
    _join(mediator, hid)
    assert '"server_recording": false' in mediator.get(f"/hearing/{hid}").get_data(as_text=True)
    rid = mediator.post(f"/hearing/{hid}/recording").get_json()["id"]
    with app_ctx(sfu_app):
        rec = db.session.get(Recording, rid)
        assert rec.sfu_dir is None and rec.file_key


def test_a_janus_restarted_since_the_call_gets_the_room_again_and_ending_needs_no_janus(sfu_app, login_as,
                                                                                         case_id, server):
    hid = _call(login_as, case_id)
    with app_ctx(sfu_app):
        hearing = db.session.get(Hearing, hid)
        room, secret = hearing.sfu_room, hearing.sfu_secret
    server.destroy_room(room, secret)  # as a restart would
    creds = _join(login_as(ZHANG, "PARTY"), hid).get_json()["sfu"]
    assert creds["room"] == room and server.exists(room)
    sfu_app.config.update(JANUS_API_URL="http://127.0.0.1:9/janus", JANUS_ADMIN_URL="http://127.0.0.1:9/admin",
                          JANUS_TIMEOUT_SECONDS=2)
    assert login_as(MEDIATOR, "MEDIATOR").post(f"/hearing/{hid}/end").status_code == 302
    with app_ctx(sfu_app):
        hearing = db.session.get(Hearing, hid)
        assert hearing.status.name == "ENDED"
        # Janus could not be told, yet the ended room's secret, PIN and entry tokens leave the database
        assert (hearing.sfu_room, hearing.sfu_secret, hearing.sfu_pin) == (None, None, None)
        assert all(p.sfu_token is None for p in hearing.participants)
    server.destroy_room(room, secret)
    server.remove_token(creds["token"])


def _fails_after(sfu_app, monkeypatch, target, name):
    """Make `target.name` raise once it has run, until the returned switch is cleared: the request
    answers 500 and rolls back. (Not monkeypatch.undo(): it would also undo the conftest's patches.)"""
    real, failing = getattr(target, name), {"on": True}

    def broken(*args, **kwargs):
        real(*args, **kwargs)
        if failing["on"]:
            raise RuntimeError("injected failure")
    monkeypatch.setattr(target, name, broken)
    monkeypatch.setitem(sfu_app.config, "PROPAGATE_EXCEPTIONS", False)
    return failing


def test_an_entry_that_fails_after_janus_admitted_it_leaves_no_token_behind(sfu_app, login_as, case_id, server,
                                                                            monkeypatch):
    hid = _call(login_as, case_id)
    before = set(server.tokens())
    failing = _fails_after(sfu_app, monkeypatch, recordings, "note_entry")  # runs after the admit
    zhang = login_as(ZHANG, "PARTY")
    assert _join(zhang, hid).status_code == 500
    assert set(server.tokens()) == before  # the rolled-back entry's token was removed from Janus
    with app_ctx(sfu_app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HearingParticipant).where(
            HearingParticipant.hearing_id == hid, HearingParticipant.sfu_token.is_not(None))) == 0
    failing["on"] = False
    creds = _join(zhang, hid).get_json()["sfu"]  # entering again works
    assert creds["token"] in server.tokens()


def test_a_call_that_fails_after_janus_made_the_room_leaves_no_room_behind(sfu_app, login_as, case_id, server,
                                                                          monkeypatch):
    from app.workflows import engine

    made = []
    real_create = janus.Janus.create_room

    def create_room(self, room, *args, **kwargs):
        made.append(room)
        return real_create(self, room, *args, **kwargs)
    monkeypatch.setattr(janus.Janus, "create_room", create_room)
    _fails_after(sfu_app, monkeypatch, engine, "flush_or_conflict")  # the transition's write, after the room
    resp = login_as(MEDIATOR, "MEDIATOR").post(f"/hearing/case/{case_id}/call",
                                               data={"sides": ["APPLICANT", "RESPONDENT"]})
    assert resp.status_code == 500
    assert made and not server.exists(made[0])  # Janus made the room and the rollback destroyed it
    with app_ctx(sfu_app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Hearing).where(
            Hearing.sfu_room == made[0])) == 0
