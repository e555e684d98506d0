"""视频调解 in real browsers (issue 13 acceptance; FAQ 4.1, 4.2), and smoke tests of the pages that were
only tested by posting data: the signature pad, the QR signing page at 375 px, the export progress page.

Three browser contexts are three people: the mediator 陈静 and the parties 张三 and 李四 of the demo's
调解中 case 物业服务合同纠纷. Media are chromium's fake camera and microphone; the peers meet over loopback.
"""
from __future__ import annotations

import datetime as dt
import re
import time

import pytest
import sqlalchemy as sa

from app.workflows import exports
from app.enums import CaseStatus
from app.extensions import db
from app.models import Agreement, Case, Recording
from app.roles import PARTY
from app.storage import DirectoryStore
from app.workflows import agreements
from app.workflows.accounts import ensure_account

from ..case_factory import make_case, mediator_actor
from ..helpers import PASSWORD

MEDIATOR, ZHANG, LI = "13900000001", "13500000001", "13500000002"
STATS = "window.courtRoom && window.courtRoom.session ? window.courtRoom.stats() : []"


def demo_case_id(live) -> int:
    with live.ctx():
        cid = db.session.scalar(sa.select(Case.id).where(Case.cause == "物业服务合同纠纷"))
        db.session.remove()
    return cid


def enter(page):
    page.click("#enter")
    page.wait_for_selector("#controls:not(.hidden)")


def wait_connected(page, peers: int, timeout: float = 60) -> list:
    """Until the page receives video from `peers` others: a decoded frame and bytes counted by getStats(),
    and each one's name known (through Janus the media can come before the roster that names them)."""
    deadline = time.monotonic() + timeout
    while True:
        stats = page.evaluate(STATS)
        if len(stats) == peers and all(p["videoWidth"] > 0 and p["bytesReceived"] > 0 and p["name"] for p in stats):
            return stats
        assert time.monotonic() < deadline, f"not connected to {peers} peers: {stats}"
        page.wait_for_timeout(250)


def open_room(context, url) -> object:
    page = context.new_page()
    page.goto(url)
    enter(page)
    return page


def call(context, live, case_id):
    page = context.new_page()
    page.goto(f"{live.url}/hearing/case/{case_id}")
    page.click("#video-call")
    page.wait_for_url(re.compile(r"/hearing/\d+$"))
    return page, int(page.url.rsplit("/", 1)[-1])


def join_from_portal(context, live):
    page = context.new_page()
    page.goto(f"{live.url}/portal/")
    page.click("[data-video-invitation] a")
    enter(page)
    return page


def test_three_browsers_see_each_other_and_the_mediator_reenters(live, login):
    case_id = demo_case_id(live)
    mediator, zhang, li = login(MEDIATOR, "MEDIATOR"), login(ZHANG, "PARTY"), login(LI, "PARTY")
    m, hid = call(mediator, live, case_id)
    enter(m)
    z, l_ = join_from_portal(zhang, live), join_from_portal(li, live)
    before = {name: wait_connected(page, 2) for name, page in (("m", m), ("z", z), ("l", l_))}
    m.wait_for_timeout(1500)
    for name, page in (("m", m), ("z", z), ("l", l_)):
        after = {p["session"]: p["bytesReceived"] for p in page.evaluate("window.courtRoom.stats()")}
        assert all(after[p["session"]] > p["bytesReceived"] for p in before[name]), name  # still flowing
    assert sorted(m.locator("#roster li").all_inner_texts())[0].startswith(("张三", "李四", "陈静"))

    m.close()  # the mediator closes the tab: the room stays, the parties stay connected to each other
    assert z.evaluate("document.getElementById('room-status').textContent") == "您已进入视频房间。"
    m2 = open_room(mediator, f"{live.url}/hearing/{hid}")
    for page in (m2, z, l_):
        wait_connected(page, 2)
    assert {p["name"] for p in wait_connected(z, 2)} == {"陈静", "李四"}


@pytest.fixture()
def others(live):
    """A party of another case (a new account), a stranger (the grassroots liaison), a mediator of
    another court's cases."""
    with live.ctx():
        ensure_account("13500000008", "吴外", [PARTY], password=PASSWORD, notify=False)
        db.session.commit()
        db.session.remove()
    make_case(live.app, status=CaseStatus.MEDIATING,
              parties=[("APPLICANT", "吴外", "13500000008", "110105198001010013"),
                       ("RESPONDENT", "李四", LI, "11010519850505002X")])
    return [("13500000008", "PARTY"), ("13600000001", "GRASSROOTS"), ("13900000011", "MEDIATOR")]


def test_others_are_refused_the_room_its_signals_and_its_recordings(live, login, others):
    case_id = demo_case_id(live)
    mediator = login(MEDIATOR, "MEDIATOR")
    page, hid = call(mediator, live, case_id)
    page.close()
    for phone, portal in others:
        context = login(phone, portal)
        for url in (f"/hearing/{hid}", f"/hearing/{hid}/signals?session=1&after=0",
                    f"/case/{case_id}/recordings"):
            assert context.request.get(live.url + url).status == 403, (phone, url)
        visit = context.new_page()
        assert visit.goto(f"{live.url}/hearing/{hid}").status == 403


def test_a_recorded_hearing_plays_in_the_page_seeks_by_range_and_is_deleted_with_its_file(live, login):
    case_id = demo_case_id(live)
    mediator, zhang = login(MEDIATOR, "MEDIATOR"), login(ZHANG, "PARTY")
    m, hid = call(mediator, live, case_id)
    enter(m)
    z = join_from_portal(zhang, live)
    wait_connected(m, 1)
    wait_connected(z, 1)
    m.click("#record")
    m.wait_for_function("() => document.getElementById('record-status').textContent === '正在录制…'")
    m.wait_for_timeout(3500)
    m.click("#record")
    m.wait_for_function("() => document.getElementById('record-status').textContent === '录像已保存。'",
                        timeout=20_000)
    rid = m.evaluate("window.courtRoom.recordingId")
    with live.ctx():
        rec = db.session.get(Recording, rid)
        key, size = rec.file_key, rec.size
        assert rec.duration_ms >= 3000 and rec.sha256 and rec.chunks >= 3
        db.session.remove()
    store = DirectoryStore(str(live.files))
    head = b"".join(store.iter_range(key, 0, 99))

    player = mediator.new_page()
    player.goto(f"{live.url}/case/{case_id}/recordings?play={rid}")
    duration = player.wait_for_function("""() => { const v = document.getElementById('player');
        return v.readyState >= 1 && isFinite(v.duration) && v.duration > 0 ? v.duration : false; }""",
                                        timeout=15_000).json_value()
    assert duration >= 3
    assert player.evaluate("""() => new Promise(resolve => { const v = document.getElementById('player');
        v.addEventListener('seeked', () => resolve(v.currentTime), {once: true}); v.currentTime = 2; })""") >= 1.5

    media = f"{live.url}/case/{case_id}/recordings/{rid}/media"
    part = mediator.request.get(media, headers={"Range": "bytes=0-99"})
    assert part.status == 206 and part.body() == head and part.headers["content-range"] == f"bytes 0-99/{size}"
    assert mediator.request.get(media, headers={"Range": f"bytes={size}-"}).status == 416

    player.on("dialog", lambda d: d.accept())
    player.click(f"tr[data-recording='{rid}'] button[data-event=delete]")
    player.wait_for_selector("text=录像已删除")
    assert not store.exists(key)


def test_the_qr_signing_page_at_375_px_signs_by_drawing_on_the_pad(live, login):
    case_id = demo_case_id(live)
    with live.ctx():
        case = db.session.get(Case, case_id)
        doc = agreements.generate(case, mediator_actor(MEDIATOR), {"terms": "一、李四于十日内支付物业费。"})
        db.session.commit()
        doc_id = doc.id
        db.session.remove()
    desktop = login(MEDIATOR, "MEDIATOR").new_page()
    desktop.goto(f"{live.url}/case/{case_id}/sign-qr/AGREEMENT/{doc_id}")
    assert desktop.locator("#qr svg").count() == 1
    url = desktop.locator("p.text-muted.small").inner_text().strip()

    # the phone is not logged in: the single-use QR token is the proof
    context = desktop.context.browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True,
                                                  has_touch=True, locale="zh-CN")
    try:
        pad = context.new_page()
        pad.goto(url)
        assert pad.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
        # the agreement's text comes first (issue 15 item 19); the mediator scrolls down to the pad
        assert "1. 李四于十日内支付物业费。" in pad.locator("#document-text").inner_text()
        pad.locator("#pad").scroll_into_view_if_needed()
        box = pad.locator("#pad").bounding_box()
        assert box["width"] <= 375 and box["height"] >= 150
        pad.mouse.move(box["x"] + 30, box["y"] + 100)
        pad.mouse.down()
        for i in range(1, 12):
            pad.mouse.move(box["x"] + 30 + i * 25, box["y"] + 100 + (-1) ** i * 40, steps=3)
        pad.mouse.up()
        pad.click("#submit-signature")
        pad.wait_for_selector("#sign-done")
    finally:
        context.close()
    desktop.wait_for_function("() => document.getElementById('sign-state').textContent === '已完成签字'", timeout=10_000)
    with live.ctx():
        assert agreements.mediator_signed(db.session.get(Agreement, doc_id))
        db.session.remove()


def test_the_export_progress_page_follows_the_job_to_its_download(live, login):
    court = login("13800000001").new_page()
    today = dt.date.today()
    court.goto(f"{live.url}/statistics/detail/export?start={today.replace(month=1, day=1)}&end={today}"
               "&key=all&figure=received")
    court.wait_for_url(re.compile(r"/statistics/exports/\d+$"))
    assert court.locator("#job-bar").inner_text() == "0%"
    assert court.locator("#job-download").get_attribute("class").find("hidden") >= 0
    with live.ctx():
        assert exports.run_due_jobs() == 1
        db.session.remove()
    court.wait_for_selector("#job-download:not(.hidden)", timeout=10_000)
    assert court.locator("#job-bar").inner_text() == "100%"
    with court.expect_download() as download:
        court.click("#job-download")
    assert download.value.suggested_filename.endswith(".xlsx")
