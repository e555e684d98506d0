"""视频调解 through Janus (VIDEO_BACKEND=janus, issue 17 item 8) in real browsers: the room test of
tests/browser/test_video.py with the media relayed by a real Janus (the `janus_server` fixture) instead of
a mesh — three chromium pages, each publishing its fake camera and receiving the other two through the SFU.
"""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Hearing

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
