"""视频调解 through Janus (VIDEO_BACKEND=janus, issue 17 item 8) in real browsers: the room test of
tests/browser/test_video.py with the media relayed by a real Janus (the `janus_server` fixture) instead of
a mesh — three chromium pages, each publishing its fake camera and receiving the other two through the SFU —
and the mediator's recording made by Janus and converted by the worker (janus-pp-rec) into the store.
"""
from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from app.enums import RecordingStatus
from app.extensions import db
from app.models import Hearing, Recording
from app.storage import DirectoryStore
from app.workflows import recordings

from .conftest import serving
from .test_video import LI, MEDIATOR, ZHANG, call, demo_case_id, enter, join_from_portal, open_room, wait_connected


@pytest.fixture(scope="module")
def live(databases, tmp_path_factory, janus_server):
    with serving(databases, tmp_path_factory, **janus_server.config()) as running:
        yield running


def test_three_browsers_see_each_other_through_janus_and_the_mediator_reenters(live, login, janus_server):
    case_id = demo_case_id(live)
    mediator, zhang, li = login(MEDIATOR, "MEDIATOR"), login(ZHANG, "PARTY"), login(LI, "PARTY")
    m, hid = call(mediator, live, case_id)
    enter(m)
    z, l_ = join_from_portal(zhang, live), join_from_portal(li, live)
    before = {name: wait_connected(page, 2) for name, page in (("m", m), ("z", z), ("l", l_))}
    assert {p["name"] for p in before["z"]} == {"陈静", "李四"}
    m.wait_for_timeout(1500)
    for name, page in (("m", m), ("z", z), ("l", l_)):
        after = {p["session"]: p["bytesReceived"] for p in page.evaluate("window.courtRoom.stats()")}
        assert all(after[p["session"]] > p["bytesReceived"] for p in before[name]), name  # still flowing
        assert page.evaluate("!!window.courtRoom.sfu")  # through the SFU, not peer to peer
    with live.ctx():
        room = db.session.get(Hearing, hid).sfu_room
        db.session.remove()
    from app.janus import from_config
    server = from_config(janus_server.config())
    assert len(server.participants(room)) == 3

    # 开始录制 / 停止录制: Janus records every stream; the worker converts them into the case's recordings
    m.click("#record")
    m.wait_for_function("() => document.getElementById('record-status').textContent === '正在录制…'")
    m.wait_for_timeout(4000)
    m.click("#record")
    m.wait_for_function("() => document.getElementById('record-status').textContent.indexOf('录制已停止') === 0",
                        timeout=15_000)
    rid = m.evaluate("window.courtRoom.recordingId")
    with live.ctx():
        assert db.session.get(Recording, rid).sfu_dir and not recordings.playable(db.session.get(Recording, rid))
        time.sleep(recordings.SETTLE.total_seconds())
        folder = recordings.convert_next()
        db.session.commit()
        recordings.remove_folder(folder)
        rows = db.session.scalars(sa.select(Recording).where(Recording.hearing_id == hid)).all()
        files = {(r.content_type, r.file_name.split(" ")[-2]): (r.file_key, r.size) for r in rows}
        assert all(r.status is RecordingStatus.READY and r.sha256 and r.size > 0 and not r.sfu_dir for r in rows)
        db.session.remove()
    for name in ("陈静", "张三", "李四"):  # each participant's video (webm) and audio (opus)
        assert ("video/webm", name) in files and ("audio/ogg", name) in files, files
    store = DirectoryStore(str(live.files))
    key, size = files[("video/webm", "张三")]
    assert b"".join(store.iter_range(key, 0, 3)) == b"\x1a\x45\xdf\xa3"  # EBML: a WebM
    assert b"".join(store.iter_range(files[("audio/ogg", "李四")][0], 0, 3)) == b"OggS"
    listing = mediator.request.get(f"{live.url}/case/{case_id}/recordings").text()
    assert "张三 视频.webm" in listing and "服务器转换中" not in listing
    media = [r.id for r in rows if r.file_key == key][0]
    part = mediator.request.get(f"{live.url}/case/{case_id}/recordings/{media}/media", headers={"Range": "bytes=0-99"})
    assert part.status == 206 and part.headers["content-range"] == f"bytes 0-99/{size}"
    assert not os.path.exists(folder)  # Janus's raw files are not kept

    m.close()  # the mediator closes the tab: the parties stay connected to each other through Janus
    assert wait_connected(z, 1)[0]["name"] == "李四"
    m2 = open_room(mediator, f"{live.url}/hearing/{hid}")
    for page in (m2, z, l_):
        wait_connected(page, 2)

    m2.on("dialog", lambda d: d.accept())
    m2.click("#end")
    z.wait_for_function("() => document.getElementById('room-status').textContent === '视频房间已解散。'",
                        timeout=15_000)
    assert not server.exists(room)
