"""Issue 15 items 18 and 19: the 签署版 carries each signature on its own signature line (the signer's
name printed there) and keeps the 签署记录 page; 一式三份 in Chinese numerals; the demo's signed case
has real signature images; a party reads the exact version on the phone before signing (rendered
text, its SHA-256 small below), not only as a .docx download [FAQ 3.9, 3.11, 3.14; SPEC §3.2]."""
from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
import sqlalchemy as sa
from docx import Document

from app.storage import put_bytes
from app.documents.agreement import chinese_count
from app.enums import CaseStatus
from app.extensions import db
from app.models import Agreement, Case, Court, Transcript
from app.roles import PARTY
from app.workflows import agreements
from app.workflows.accounts import ensure_account

from .case_factory import get_case, make_case
from .helpers import PASSWORD, app_ctx, stored_bytes, text
from .test_agreements import DEMO_PARTIES, case_id, data_url, generate, latest, mediator_signs, png  # noqa: F401

PICTURE = "{http://schemas.openxmlformats.org/drawingml/2006/picture}pic"


def _paragraph(doc, starts: str):
    return next(p for p in doc.paragraphs if p.text.strip().startswith(starts))


def _pictures(paragraph) -> int:
    return len(list(paragraph._p.iter(PICTURE)))


def _ready_for_signature(app, login_as, case_id) -> Agreement:  # noqa: F811
    """Generated, signed by 陈静 on the phone, 申请结案: sent to the parties for signature."""
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    mediator_signs(app, mediator, case_id)
    resp = mediator.post(f"/case/{case_id}/do/apply_close", data={"version": get_case(app, case_id).version})
    assert resp.status_code == 302 and get_case(app, case_id).status is CaseStatus.CLOSE_REQUESTED
    return latest(app, case_id)


# --- item 18: the signed version -------------------------------------------------------------

@pytest.mark.parametrize("n,written", [(2, "两"), (3, "三"), (4, "四"), (10, "十"), (11, "十一"), (23, "二十三")])
def test_copies_are_counted_in_chinese_numerals(n, written):
    """[issue 15 item 18] 一式三份, never 一式3份."""
    assert chinese_count(n) == written


def test_generated_agreement_says_yishi_sanfen_and_prints_each_name_on_its_signature_line(app, login_as,
                                                                                         case_id):  # noqa: F811
    """[issue 15 item 18; FAQ 3.11] two parties and the mediator: 一式三份; 申请人（签字）：张三 …"""
    generate(login_as("13900000001", "MEDIATOR"), case_id)
    body = "\n".join(p.text for p in Document(io.BytesIO(stored_bytes(app, latest(app, case_id).file_key))).paragraphs)
    assert "本协议一式三份" in body and "一式3份" not in body
    for line in ("申请人（签字）：张三", "被申请人（签字）：李四", "调解员（签字）：陈静"):
        assert line in body.splitlines(), line


def test_signed_version_puts_each_signature_on_its_own_line_and_keeps_the_record_page(app, login_as,
                                                                                     case_id):  # noqa: F811
    """[issue 15 item 18; FAQ 3.11, 3.14] the special agent 王律师 signs for 张三, 李四 himself."""
    agreement = _ready_for_signature(app, login_as, case_id)
    sign = f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/sign"
    assert "已完成签字" in text(login_as("13500000003", "AGENT").post(sign, data={"signature": data_url()}))
    assert "已完成签字" in text(login_as("13500000002", "PARTY").post(sign, data={"signature": data_url()}))
    assert get_case(app, case_id).status is CaseStatus.ENDED

    signed = login_as("13800000001").get(f"/case/{case_id}/document/AGREEMENT/{agreement.id}/signed")
    doc = Document(io.BytesIO(signed.data))
    applicant = _paragraph(doc, "申请人（签字）：张三")
    assert _pictures(applicant) == 1 and "（委托代理人王律师代签）" in applicant.text
    assert _pictures(_paragraph(doc, "被申请人（签字）：李四")) == 1
    assert _pictures(_paragraph(doc, "调解员（签字）：陈静")) == 1
    # the 签署记录 page stays: one row per signature, with its image, time and the hash signed
    texts = [p.text for p in doc.paragraphs]
    record = texts.index("签署记录")
    assert len([t for t in texts[record:] if "签署时间" in t]) == 3
    assert sum(_pictures(p) for p in doc.paragraphs[record:]) == 3
    assert texts[record:].count(f"文件SHA-256：{agreement.sha256}　IP：127.0.0.1") == 3
    # and it names each signer as the signature lines do: the agent 代签 for 张三, not "张三的代理人"
    rows = [t.split("　签署时间")[0] for t in texts[record:] if "签署时间" in t]
    assert sorted(rows) == sorted(["申请人：张三（委托代理人王律师代签）", "被申请人：李四", "调解员：陈静"])


def test_an_uploaded_agreement_without_signature_lines_keeps_signatures_on_the_record_page(app, login_as,
                                                                                          case_id):  # noqa: F811
    """[issue 15 item 18] no line to sign on: nothing is placed in the text, the record page has them."""
    mediator = login_as("13900000001", "MEDIATOR")
    plain = Document()
    plain.add_paragraph("调解协议（当事人自拟）")
    buf = io.BytesIO()
    plain.save(buf)
    mediator.post(f"/case/{case_id}/agreement/upload", data={"file": (io.BytesIO(buf.getvalue()), "自拟协议.docx")},
                  content_type="multipart/form-data")
    mediator_signs(app, mediator, case_id)
    agreement = latest(app, case_id)
    doc = Document(io.BytesIO(login_as("13800000001").get(
        f"/case/{case_id}/document/AGREEMENT/{agreement.id}/signed").data))
    texts = [p.text for p in doc.paragraphs]
    record = texts.index("签署记录")
    assert sum(_pictures(p) for p in doc.paragraphs[:record]) == 0
    assert sum(_pictures(p) for p in doc.paragraphs[record:]) == 1


def _png_ink(image: bytes) -> tuple[int, int, int]:
    """(width, height, pixels with ink) of a PNG whose IDAT rows are unfiltered (what the demo writes)."""
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    width, height, depth, colour = struct.unpack(">IIBB", image[16:26])
    chunks, pos = b"", 8
    while pos < len(image):
        length = struct.unpack(">I", image[pos:pos + 4])[0]
        if image[pos + 4:pos + 8] == b"IDAT":
            chunks += image[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(chunks)
    assert depth == 8 and colour == 4  # grey + alpha
    ink = sum(1 for row in range(height) for x in range(width)
              if raw[row * (1 + 2 * width) + 1 + 2 * x + 1] > 128)
    return width, height, ink


def test_demo_signed_case_has_real_signature_images(app):
    """[issue 15 item 18] README's 房屋租赁合同纠纷 (调解结束): 陈静, 张三 and 李四 each signed with a drawn
    stroke — a PNG of real size with ink, a different one each — not a blank 1×1."""
    with app_ctx(app):
        court = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
        case = db.session.scalar(sa.select(Case).where(Case.court_id == court, Case.cause == "房屋租赁合同纠纷"))
        agreement = agreements.latest_agreement(case)
        images = {s.signer_name: stored_bytes(app, s.image_key) for s in agreement.signatures}
    assert set(images) == {"陈静", "张三", "李四"}
    for name, image in images.items():
        width, height, ink = _png_ink(image)
        assert width >= 200 and height >= 60 and ink > 300, name
    assert len(set(images.values())) == 3


# --- item 19: reading before signing ------------------------------------------------------------

def test_party_reads_the_pushed_agreement_as_text_on_the_phone(app, login_as, case_id):  # noqa: F811
    """[issue 15 item 19; FAQ 3.9(2)] 阅读 opens the rendered text (not a download), hash small below."""
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    agreement = latest(app, case_id)
    mediator.post(f"/case/{case_id}/agreement/{agreement.id}/push")
    party = login_as("13500000001", "PARTY")
    view = f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/view"
    portal = text(party.get("/portal/"))
    assert view in portal and f"/portal/case/{case_id}/AGREEMENT/{agreement.id}\"" in portal  # 阅读 and 下载
    resp = party.get(view)
    page = text(resp)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "Content-Disposition" not in resp.headers
    for expected in ("调解协议书", "申请人：张三", "1. 被申请人于2026年12月31日前支付货款50000元",
                     "本协议一式三份", "申请人（签字）：张三", "调解员（签字）：陈静"):
        assert expected in page, expected
    assert re.search(r'id="document-sha256">' + agreement.sha256 + "<", page)
    assert 'class="small text-muted court-doc-hash"' in page
    # a preview is for reading: no signing from there
    assert f"/AGREEMENT/{agreement.id}/sign" not in page


def test_signing_page_shows_the_version_sent_for_signature_even_after_the_draft_changed(app, login_as,
                                                                                       case_id):  # noqa: F811
    """[issue 15 item 19; SPEC §3.2 'the hash of the exact document signed'] the case's summary and the
    stored draft content change after for_signature: the page shows the bytes sent, and its hash."""
    agreement = _ready_for_signature(app, login_as, case_id)
    original = "\n".join(p.text for p in Document(io.BytesIO(stored_bytes(app, agreement.file_key))).paragraphs)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        old_summary = case.summary
        case.summary = "纠纷概况已被改写"
        row = db.session.get(Agreement, agreement.id)
        row.content = {**row.content, "terms": "被申请人无须付款"}
        db.session.commit()
    assert old_summary and old_summary in original
    page = text(login_as("13500000001", "PARTY").get(f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/sign"))
    assert 'id="sign-form"' in page and 'id="document-text"' in page
    assert "1. 被申请人于2026年12月31日前支付货款50000元" in page and old_summary in page
    assert "纠纷概况已被改写" not in page and "被申请人无须付款" not in page
    assert f'id="document-sha256">{agreement.sha256}<' in page


def test_mediators_phone_page_shows_the_text_it_signs(app, login_as, case_id):  # noqa: F811
    """[issue 15 item 19; FAQ 3.9(3)] the QR's page on the mediator's phone: the text, then the pad."""
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    agreement = latest(app, case_id)
    html = text(mediator.get(f"/case/{case_id}/sign-qr/AGREEMENT/{agreement.id}"))
    url = re.search(r"http://localhost(/sign/[A-Za-z0-9_\-]+)", html).group(1)
    page = text(app.test_client().get(url))
    assert "调解协议书" in page and "调解员（签字）：陈静" in page and agreement.sha256 in page
    assert page.index('id="document-text"') < page.index('id="pad"')


def test_a_transcript_photo_shows_as_an_image_and_a_pdf_opens_in_the_browser(app, login_as, case_id):  # noqa: F811
    """[issue 15 item 19] a PNG transcript is shown inline; a PDF agreement opens in the phone's viewer."""
    mediator = login_as("13900000001", "MEDIATOR")
    mediator.post(f"/case/{case_id}/transcript/upload", data={"file": (io.BytesIO(png()), "笔录.png")},
                  content_type="multipart/form-data")
    with app_ctx(app):
        tid = db.session.scalar(sa.select(Transcript.id).where(Transcript.case_id == case_id))
    mediator_signs(app, mediator, case_id, "TRANSCRIPT", tid)
    mediator.post(f"/case/{case_id}/transcript/{tid}/confirm")
    party = login_as("13500000001", "PARTY")
    page = text(party.get(f"/portal/case/{case_id}/TRANSCRIPT/{tid}/sign"))
    assert 'src="data:image/png;base64,' in page and 'id="sign-form"' in page

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    mediator.post(f"/case/{case_id}/agreement/upload", data={"file": (io.BytesIO(pdf), "协议.pdf")},
                  content_type="multipart/form-data")
    agreement = latest(app, case_id)
    mediator.post(f"/case/{case_id}/agreement/{agreement.id}/push")
    page = text(party.get(f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/view"))
    link = re.search(r'href="([^"]+)"[^>]*id="open-pdf"', page).group(1).replace("&amp;", "&")
    resp = party.get(link)
    assert resp.data == pdf and resp.headers["Content-Disposition"].startswith("inline;")
    # without ?inline=1 it stays a download
    assert party.get(f"/portal/case/{case_id}/AGREEMENT/{agreement.id}").headers[
        "Content-Disposition"].startswith("attachment;")


def test_a_doc_file_is_named_unreadable_in_the_browser_and_offered_for_download(app, login_as,
                                                                               case_id):  # noqa: F811
    """[issue 15 item 19] a legacy .doc cannot be rendered: the page says so, the download remains."""
    mediator = login_as("13900000001", "MEDIATOR")
    doc = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    mediator.post(f"/case/{case_id}/agreement/upload", data={"file": (io.BytesIO(doc), "协议.doc")},
                  content_type="multipart/form-data")
    agreement = latest(app, case_id)
    mediator.post(f"/case/{case_id}/agreement/{agreement.id}/push")
    page = text(login_as("13500000001", "PARTY").get(f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/view"))
    assert "此文件无法在浏览器中显示，请下载后阅读。" in page and 'id="download-document"' in page


def test_who_may_read_a_document_in_the_browser(app, login_as, case_id):  # noqa: F811
    """[issue 15 item 19; FAQ 3.14] role × endpoint: the case's parties and agents read what was pushed;
    a draft, another case's party, court and mediator logins, and anonymous visitors do not."""
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    agreement = latest(app, case_id)
    view = f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/view"
    assert login_as("13500000001", "PARTY").get(view).status_code == 404  # a draft, not pushed
    mediator.post(f"/case/{case_id}/agreement/{agreement.id}/push")
    for who, portal in (("13500000001", "PARTY"), ("13500000002", "PARTY"), ("13500000003", "AGENT"),
                        ("13500000004", "AGENT")):
        assert login_as(who, portal).get(view).status_code == 200, who
    with app_ctx(app):
        ensure_account("13511110001", "赵一", [PARTY], password=PASSWORD, notify=False)
        db.session.commit()
    other = make_case(app, status=CaseStatus.MEDIATING, parties=[("APPLICANT", "赵一", "13511110001", None)])
    assert login_as("13511110001", "PARTY").get(view).status_code == 404  # another case's party
    assert login_as("13500000001", "PARTY").get(
        f"/portal/case/{other}/AGREEMENT/{agreement.id}/view").status_code == 404
    assert login_as("13500000001", "PARTY").get(
        f"/portal/case/{case_id}/NOPE/{agreement.id}/view").status_code == 404
    assert login_as("13500000001", "PARTY").get(f"/portal/case/{case_id}/AGREEMENT/999999/view").status_code == 404
    for who, portal in (("13800000001", "COURT"), ("13900000001", "MEDIATOR"), ("13600000001", "GRASSROOTS")):
        assert login_as(who, portal).get(view).status_code in (302, 403), who
    anonymous = app.test_client().get(view)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
