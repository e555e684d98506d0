"""实名认证 in a real browser at 375 px (issue 14 item 4): a party who has not verified is sent from
the signing pad to 实名认证, uploads the ID card's two sides and the holding photo, 陈客服 approves
in 平台后台 › 实名审核, and the party signs the transcript; then a 留言 from the phone."""
from __future__ import annotations

import struct
import zlib

import sqlalchemy as sa

from app.storage import put_bytes
from app.enums import CaseStatus, IdentityStatus, SignerRole
from app.extensions import db
from app.models import Case, Signature
from app.roles import PARTY
from app.workflows import agreements, identity
from app.workflows.accounts import ensure_account, find_user

from ..case_factory import make_case, mediator_actor
from ..helpers import PASSWORD

QIAN, QIAN_ID = "13511114444", "110105199001010029"
PLATFORM = "13300000001"


def picture(width=64, height=40) -> bytes:
    """A small real PNG (grey), as a phone camera upload would be."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _case_with_transcript(live) -> tuple[int, int]:
    with live.ctx():
        ensure_account(QIAN, "钱七", [PARTY], password=PASSWORD, notify=False)
        db.session.commit()
        db.session.remove()
    cid = make_case(live.app, status=CaseStatus.MEDIATING,
                    parties=[("APPLICANT", "钱七", QIAN, QIAN_ID), ("RESPONDENT", "李四", "13500000002",
                                                                  "11010519850505002X")])
    with live.ctx():
        case = db.session.get(Case, cid)
        transcript = agreements.upload_transcript(case, mediator_actor(), "笔录.png", picture())
        db.session.add(Signature(transcript=transcript, role=SignerRole.MEDIATOR, mediator_id=case.mediator_id,
                                 signer_name="陈静", image_key=put_bytes(db.session, picture(), prefix="signatures").key, document_sha256=transcript.sha256))
        agreements.start_transcript_confirmation(case, mediator_actor(), transcript)
        db.session.commit()
        tid = transcript.id
        db.session.remove()
    return cid, tid


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, page.url


def _draw(page):
    page.locator("#pad").scroll_into_view_if_needed()  # below the document's text (issue 15 item 19)
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 100)
    page.mouse.down()
    for i in range(1, 10):
        page.mouse.move(box["x"] + 30 + i * 25, box["y"] + 100 + (-1) ** i * 40, steps=3)
    page.mouse.up()


def test_upload_review_and_sign_at_375_px(live, login):
    case_id, tid = _case_with_transcript(live)
    phone = login(QIAN, "PARTY", width=375, height=667).new_page()
    phone.goto(f"{live.url}/portal/")
    assert phone.locator("#identity-banner [data-status=unverified]").count() == 1
    phone.goto(f"{live.url}/portal/case/{case_id}/TRANSCRIPT/{tid}/sign")
    assert "签署前请先完成实名认证" in phone.locator("#sign-error").inner_text()
    _fits(phone)
    phone.click("#go-verify")
    phone.wait_for_selector("#identity-form")
    _fits(phone)
    phone.fill("#name", "钱七")
    phone.fill("#id_number", QIAN_ID)
    for side in identity.SIDES:
        phone.set_input_files(f"#{side}", files=[{"name": f"{side}.png", "mimeType": "image/png",
                                                  "buffer": picture()}])
    phone.click("#identity-form button[type=submit]")
    phone.wait_for_selector("#identity-status[data-status=pending]")
    _fits(phone)

    staff = login(PLATFORM, "PLATFORM").new_page()
    staff.goto(f"{live.url}/")
    staff.click("text=实名审核")
    staff.wait_for_selector("#identity-queue")
    staff.click("#identity-queue tr:has-text('钱七') a")
    staff.wait_for_selector("#identity-id-number")
    assert staff.locator("#identity-id-number").inner_text() == QIAN_ID
    for side in identity.SIDES:  # the images load for platform staff
        staff.wait_for_function(f"() => document.querySelector('img[data-image={side}]').naturalWidth === 64")
    staff.click("button[data-event=approve]")
    staff.wait_for_selector("text=通过成功。")

    phone.goto(f"{live.url}/portal/case/{case_id}/TRANSCRIPT/{tid}/sign")
    assert phone.locator("#go-verify").count() == 0
    _draw(phone)
    phone.click("#submit-signature")
    phone.wait_for_selector("#sign-done")
    with live.ctx():
        assert identity.status_of(find_user(QIAN).id) is IdentityStatus.VERIFIED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature).where(
            Signature.transcript_id == tid, Signature.role == SignerRole.PARTY)) == 1
        db.session.remove()

    # 留言 from the phone
    phone.goto(f"{live.url}/messages/portal/{case_id}")
    _fits(phone)
    phone.fill("#message-body", "笔录已签，谢谢调解员。")
    phone.click("#message-send")
    phone.wait_for_selector("text=笔录已签，谢谢调解员。")
    _fits(phone)
