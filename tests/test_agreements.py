"""Agreements, transcripts and signatures [FAQ 3.9–3.11, 3.14; CPL arts 61, 62] — the whole path,
its refusals, and who may do each operation (the workflow checks, not only the screen)."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
import struct
import zlib

import pytest
import sqlalchemy as sa
from docx import Document

from app.storage import put_bytes
from app import clock
from app.clock import shown, utcnow
from app.documents.agreement import agreement_context
from app.enums import AgentType, CaseStatus, SignerRole
from app.extensions import db
from app.models import Agreement, AuditLog, Case, CaseParty, Mediator, Signature, SigningToken, Transcript
from app.roles import Portal
from app.security import Scope
from app.workflows import Conflict, DomainError, NotAllowed, agreements, case_lifecycle
from app.workflows.accounts import find_user
from app.workflows.actor import Actor

from .case_factory import add_agent, court_actor, get_case, make_case, mediator_actor
from .helpers import app_ctx, flashes, stored_bytes, text
from .helpers import last_sms

NUMBER = "（2026）京0105民诉前调9001号"

DEMO_PARTIES = [
    ("APPLICANT", "张三", "13500000001", "110105198001010016"),
    ("RESPONDENT", "李四", "13500000002", "11010519850505002X"),
]
TERMS = {"terms": "被申请人于2026年12月31日前支付货款50000元\n申请人放弃其余诉讼请求",
         "performance_manner": "银行转账", "performance_place": "北京市朝阳区", "performance_deadline": "2026年12月31日前",
         "disputed_items": "货款金额及支付期限", "liability": "被申请人逾期付款应承担主要责任"}


def png() -> bytes:
    """A real 1×1 PNG, as a signature pad would post."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    raw = b"\x00\x00\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def data_url() -> str:
    return "data:image/png;base64," + base64.b64encode(png()).decode()


def signatures_of(app, document) -> list[str]:
    """The roles that signed `document`, in order."""
    column = Signature.agreement_id if isinstance(document, Agreement) else Signature.transcript_id
    with app_ctx(app):
        return [r.name for r in db.session.scalars(sa.select(Signature.role).where(column == document.id)
                                                   .order_by(Signature.id))]


@pytest.fixture()
def case_id(app):
    cid = make_case(app, status=CaseStatus.MEDIATING, parties=DEMO_PARTIES, number=NUMBER)
    with app_ctx(app):
        applicant, respondent = db.session.scalars(
            sa.select(CaseParty.id).where(CaseParty.case_id == cid).order_by(CaseParty.id)).all()
    add_agent(app, applicant, AgentType.SPECIAL, "13500000003")
    add_agent(app, respondent, AgentType.GENERAL, "13500000004", "刘代理")
    return cid


def generate(client, case_id, **content):
    return client.post(f"/case/{case_id}/agreement/new", data={**TERMS, **content})


def latest(app, case_id) -> Agreement:
    with app_ctx(app):
        a = db.session.scalar(sa.select(Agreement).where(Agreement.case_id == case_id)
                              .order_by(Agreement.version.desc()))
        if a is not None:
            db.session.expunge(a)
        return a


def mediator_signs(app, client, case_id, kind="AGREEMENT", doc_id=None):
    doc_id = doc_id or latest(app, case_id).id
    html = text(client.get(f"/case/{case_id}/sign-qr/{kind}/{doc_id}"))
    assert "<svg" in html
    url = re.search(r"http://localhost(/sign/[A-Za-z0-9_\-]+)", html).group(1)
    phone = app.test_client()  # any phone, no login
    assert "签名" in text(phone.get(url)) or "签字" in text(phone.get(url))
    resp = phone.post(url, data={"signature": data_url()}, headers={"User-Agent": "PhoneBrowser/1.0"})
    assert "已完成签字" in text(resp)
    return url


def test_generated_agreement_has_parties_terms_numbers_and_signature_blocks(app, login_as, case_id):
    mediator = login_as("13900000001", "MEDIATOR")
    assert generate(mediator, case_id).status_code == 302
    agreement = latest(app, case_id)
    case = get_case(app, case_id)
    body = "\n".join(p.text for p in Document(io.BytesIO(stored_bytes(app, agreement.file_key))).paragraphs)
    assert body.splitlines()[0] == "调解协议书"
    assert case.number == NUMBER and NUMBER in body
    for expected in ("申请人：张三", "公民身份号码110105198001010016", "被申请人：李四", "委托代理人：王律师",
                     "特别授权代理", "一般代理", "案由：合同纠纷", "北京市朝阳区人民法院", "1. 被申请人于2026年12月31日前支付货款50000元",
                     "2. 申请人放弃其余诉讼请求", "履行方式：银行转账", "三十日内", "司法确认", "申请人（签字）",
                     "被申请人（签字）", "调解员（签字）：陈静", "争议事项：货款金额及支付期限"):
        assert expected in body, expected
    assert agreement.sha256 == hashlib.sha256(stored_bytes(app, agreement.file_key)).hexdigest()
    title = Document(io.BytesIO(stored_bytes(app, agreement.file_key))).paragraphs[0]
    assert title.style.name == "协议标题"  # 宋体, bold, centred: a Word style the clerk can change
    assert title.style.font.name == "宋体" and title.style.font.bold


def test_clauses_typed_with_their_own_numbers_are_numbered_once(app, login_as, case_id):
    """The document numbers the clauses: a mediator's own 一、/（二）/3. is dropped, not printed after
    "1." (the walk-through read "1. 一、李四于三个月内…"); an amount like 10.5万元 stays."""
    mediator = login_as("13900000001", "MEDIATOR")
    terms = "一、李四于三个月内分期支付张三劳务费。\n（二）张三放弃其他请求。\n3. 诉讼费减半。\n10.5万元由李四一次付清。"
    assert generate(mediator, case_id, terms=terms).status_code == 302
    body = "\n".join(p.text for p in Document(io.BytesIO(stored_bytes(app, latest(app, case_id).file_key))).paragraphs)
    for expected in ("1. 李四于三个月内分期支付张三劳务费。", "2. 张三放弃其他请求。", "3. 诉讼费减半。",
                     "4. 10.5万元由李四一次付清。"):
        assert expected in body, expected
    assert "一、李四" not in body and "（二）" not in body


def test_generation_refuses_listing_missing_party_fields(app, login_as):
    cid = make_case(app, status=CaseStatus.MEDIATING,
                    parties=[("APPLICANT", "张三", "13500000001", None), ("RESPONDENT", "李四", None, None)])
    mediator = login_as("13900000001", "MEDIATOR")
    resp = generate(mediator, cid)
    html = text(resp)
    assert resp.status_code == 200
    assert "申请人张三：身份证号" in html and "被申请人李四：手机号、身份证号" in html
    assert latest(app, cid) is None


def test_the_generation_form_links_a_missing_summary_to_the_mediation_information(app, login_as):
    """[FAQ 3.9(2)] 自动生成 needs 纠纷概况: the form says so and links to 调解信息 › 编辑, where it is entered."""
    cid = make_case(app, status=CaseStatus.MEDIATING, summary=None)
    page = text(login_as("13900000001", "MEDIATOR").get(f"/case/{cid}/agreement/new"))
    assert "生成前请补充" in page and "纠纷概况" in page
    assert f'href="/case/{cid}/mediation-info"' in page


def test_the_whole_signing_path_ends_the_case_automatically(app, login_as, case_id):
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    agreement = latest(app, case_id)
    mediator.post(f"/case/{case_id}/agreement/{agreement.id}/push")
    assert "调解协议" in last_sms(app, "13500000001")

    # A preview is for reading: the portal offers no signing, and a signature posted anyway is refused
    # (the case is still 调解中) and not written [FAQ 3.9(2)].
    party = login_as("13500000001", "PARTY")
    sign_url = f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/sign"
    portal = text(party.get("/portal/"))
    assert agreement.file_name in portal and "仅供阅读" in portal and sign_url not in portal
    assert party.get(f"/portal/case/{case_id}/AGREEMENT/{agreement.id}").data == stored_bytes(app, agreement.file_key)
    page = text(party.get(sign_url))
    assert "当前案件状态为“调解中”，不能签署调解协议" in page and 'id="sign-form"' not in page
    resp = party.post(sign_url, data={"signature": data_url()})
    assert "当前案件状态为“调解中”，不能签署调解协议" in text(resp) and 'id="sign-form"' not in text(resp)
    assert signatures_of(app, agreement) == []

    # 申请结案 needs the mediator's signature first.
    resp = mediator.post(f"/case/{case_id}/do/apply_close", data={"version": get_case(app, case_id).version})
    assert "调解员尚未签署" in text(resp)
    mediator_signs(app, mediator, case_id)
    resp = mediator.post(f"/case/{case_id}/do/apply_close", data={"version": get_case(app, case_id).version})
    assert resp.status_code == 302 and get_case(app, case_id).status is CaseStatus.CLOSE_REQUESTED
    assert "签署" in last_sms(app, "13500000002")

    # The general agent is offered no 签字 and is refused and told who can sign [CPL art 62];
    # the special agent signs for the applicant.
    general = login_as("13500000004", "AGENT")
    assert agreement.file_name in text(general.get("/portal/")) and sign_url not in text(general.get("/portal/"))
    resp = general.post(sign_url, data={"signature": data_url()})
    assert "一般代理人无权签署调解协议" in text(resp) and "特别授权代理人" in text(resp)
    assert signatures_of(app, agreement) == ["MEDIATOR"]
    special = login_as("13500000003", "AGENT")
    assert sign_url in text(special.get("/portal/"))
    resp = special.post(f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/sign", data={"signature": data_url()})
    assert "已完成签字" in text(resp)
    assert get_case(app, case_id).status is CaseStatus.CLOSE_REQUESTED

    respondent = login_as("13500000002", "PARTY")
    respondent.post(f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/sign", data={"signature": data_url()})
    assert get_case(app, case_id).status is CaseStatus.ENDED

    with app_ctx(app):
        signatures = db.session.scalars(sa.select(Signature).where(Signature.agreement_id == agreement.id)).all()
        assert sorted(s.role.name for s in signatures) == ["AGENT", "MEDIATOR", "PARTY"]
        assert {s.document_sha256 for s in signatures} == {hashlib.sha256(stored_bytes(app, agreement.file_key)).hexdigest()}
        mediator_sig = next(s for s in signatures if s.role.name == "MEDIATOR")
        assert mediator_sig.user_agent == "PhoneBrowser/1.0" and mediator_sig.ip == "127.0.0.1"
        assert stored_bytes(app, mediator_sig.image_key) == png()
        mediator_signed_at = mediator_sig.signed_at

    signed = login_as("13800000001").get(f"/case/{case_id}/document/AGREEMENT/{agreement.id}/signed")
    body = "\n".join(p.text for p in Document(io.BytesIO(signed.data)).paragraphs)
    assert "签署记录" in body and agreement.sha256 in body and "调解协议书" in body and "陈静" in body
    assert f"{shown(mediator_signed_at, seconds=True)}（北京时间）" in body  # issue 15 item 1


def test_mediator_closes_on_their_own_when_a_party_has_not_signed(app, login_as, case_id):
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    mediator_signs(app, mediator, case_id)
    mediator.post(f"/case/{case_id}/do/apply_close", data={"version": get_case(app, case_id).version})
    agreement = latest(app, case_id)
    login_as("13500000001", "PARTY").post(f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/sign",
                                         data={"signature": data_url()})
    assert get_case(app, case_id).status is CaseStatus.CLOSE_REQUESTED
    mediator.post(f"/case/{case_id}/do/close", data={"version": get_case(app, case_id).version})
    assert get_case(app, case_id).status is CaseStatus.ENDED


def test_cancel_close_voids_party_signatures_and_continue_deletes_documents(app, login_as, case_id):
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    mediator_signs(app, mediator, case_id)
    mediator.post(f"/case/{case_id}/do/apply_close", data={"version": get_case(app, case_id).version})
    agreement = latest(app, case_id)
    login_as("13500000001", "PARTY").post(f"/portal/case/{case_id}/AGREEMENT/{agreement.id}/sign",
                                         data={"signature": data_url()})
    mediator.post(f"/case/{case_id}/do/cancel_close", data={"version": get_case(app, case_id).version})
    with app_ctx(app):
        roles = db.session.scalars(sa.select(Signature.role).where(Signature.agreement_id == agreement.id)).all()
        assert [r.name for r in roles] == ["MEDIATOR"]
    mediator.post(f"/case/{case_id}/transcript/upload", data={"file": (io.BytesIO(png()), "笔录.png")},
                  content_type="multipart/form-data")
    mediator.post(f"/case/{case_id}/do/apply_close", data={"version": get_case(app, case_id).version})
    mediator.post(f"/case/{case_id}/do/close", data={"version": get_case(app, case_id).version})
    mediator.post(f"/case/{case_id}/do/resume", data={"version": get_case(app, case_id).version})
    assert get_case(app, case_id).status is CaseStatus.MEDIATING
    with app_ctx(app):
        # this case's documents and signatures (the demo has a signed agreement of its own)
        agreements_ = sa.select(Agreement.id).where(Agreement.case_id == case_id)
        transcripts = sa.select(Transcript.id).where(Transcript.case_id == case_id)
        for model, where in ((Agreement, Agreement.case_id == case_id), (Transcript, Transcript.case_id == case_id),
                             (Signature, sa.or_(Signature.agreement_id.in_(agreements_),
                                                Signature.transcript_id.in_(transcripts)))):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model).where(where)) == 0, model


@pytest.mark.parametrize("name,data,message", [
    ("合同.docx", b"MZ\x90\x00" + b"\x00" * 200, "DOCX"),  # an .exe renamed .docx
    ("合同.docx", b"", "空"),
    ("合同.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), "MB"),
])
def test_bad_uploads_are_refused_and_nothing_is_stored(app, login_as, case_id, name, data, message):
    mediator = login_as("13900000001", "MEDIATOR")
    mediator.post(f"/case/{case_id}/agreement/upload", data={"file": (io.BytesIO(data), name)},
                  content_type="multipart/form-data")
    assert message in " ".join(flashes(mediator))
    assert latest(app, case_id) is None


def test_uploaded_pdf_keeps_its_chinese_file_name(app, login_as, case_id):
    mediator = login_as("13900000001", "MEDIATOR")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    mediator.post(f"/case/{case_id}/agreement/upload", data={"file": (io.BytesIO(pdf), "人民调解协议书.pdf")},
                  content_type="multipart/form-data")
    agreement = latest(app, case_id)
    assert agreement.content_type == "application/pdf" and not agreement.generated
    resp = login_as("13800000001").get(f"/case/{case_id}/document/AGREEMENT/{agreement.id}")
    assert resp.data == pdf
    assert "filename*=UTF-8''%E4%BA%BA%E6%B0%91" in resp.headers["Content-Disposition"]


def test_each_generation_is_a_new_version(app, login_as, case_id):
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    generate(mediator, case_id, terms="新的条款")
    assert latest(app, case_id).version == 2


def test_tokens_are_single_use_expire_and_belong_to_one_case(app, login_as, case_id):
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    url = mediator_signs(app, mediator, case_id)
    assert "已使用" in text(app.test_client().post(url, data={"signature": data_url()}))
    other = make_case(app, status=CaseStatus.MEDIATING, parties=DEMO_PARTIES)
    generate(mediator, other)
    with app.test_request_context():
        case_a, case_b = db.session.get(Case, case_id), db.session.get(Case, other)
        doc_a = agreements.latest_agreement(case_a)
        with pytest.raises(DomainError, match="本案没有该文书"):
            agreements.issue_mediator_token(case_b, mediator_actor(), doc_a)
        raw = agreements.issue_mediator_token(case_b, mediator_actor(), agreements.latest_agreement(case_b))
        db.session.commit()
        later = utcnow() + dt.timedelta(minutes=11)
        with pytest.raises(DomainError, match="过期"):
            agreements.sign_with_token(raw, png(), None, None, now=later)
        token = db.session.scalar(sa.select(SigningToken).where(SigningToken.case_id == other))
        assert token.used_at is None and len(token.token_hash) == 64 and raw not in token.token_hash


def test_a_new_version_invalidates_an_open_qr(app, login_as, case_id):
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    html = text(mediator.get(f"/case/{case_id}/sign-qr/AGREEMENT/{latest(app, case_id).id}"))
    url = re.search(r"http://localhost(/sign/[A-Za-z0-9_\-]+)", html).group(1)
    generate(mediator, case_id, terms="改过的条款")
    resp = app.test_client().post(url, data={"signature": data_url()})
    assert "已完成签字" not in text(resp)


def test_transcript_mediator_signs_first_then_parties(app, login_as, case_id):
    mediator = login_as("13900000001", "MEDIATOR")
    mediator.post(f"/case/{case_id}/transcript/upload", data={"file": (io.BytesIO(b"GIF89a...."), "笔录.gif")},
                  content_type="multipart/form-data")
    assert "PNG" in " ".join(flashes(mediator))
    mediator.post(f"/case/{case_id}/transcript/upload", data={"file": (io.BytesIO(png()), "第一次笔录.png")},
                  content_type="multipart/form-data")
    with app_ctx(app):
        tid = db.session.scalar(sa.select(Transcript.id).where(Transcript.case_id == case_id))
    mediator.post(f"/case/{case_id}/transcript/{tid}/confirm")
    assert "先扫码签署" in " ".join(flashes(mediator))
    mediator_signs(app, mediator, case_id, "TRANSCRIPT", tid)
    mediator.post(f"/case/{case_id}/transcript/{tid}/confirm")
    party = login_as("13500000001", "PARTY")
    resp = party.post(f"/portal/case/{case_id}/TRANSCRIPT/{tid}/sign", data={"signature": data_url()})
    assert "已完成签字" in text(resp)
    page = text(mediator.get(f"/case/{case_id}?tab=documents"))
    assert page.count("已签署") >= 2 and "未签署" in page  # 李四 has not signed


def test_transcripts_are_refused_after_apply_to_close(app, login_as):
    cid = make_case(app, status=CaseStatus.CLOSE_REQUESTED, parties=DEMO_PARTIES)
    mediator = login_as("13900000001", "MEDIATOR")
    assert "上传调解笔录" not in text(mediator.get(f"/case/{cid}?tab=documents"))
    mediator.post(f"/case/{cid}/transcript/upload", data={"file": (io.BytesIO(png()), "笔录.png")},
                  content_type="multipart/form-data")
    assert "当前案件状态为“申请结案”，不能上传调解笔录" in " ".join(flashes(mediator))
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Transcript)
                                 .where(Transcript.case_id == cid)) == 0


def test_documents_stay_within_the_case_and_its_people(app, login_as, case_id):
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    agreement = latest(app, case_id)
    assert login_as("13800000011").get(f"/case/{case_id}/document/AGREEMENT/{agreement.id}").status_code == 404
    assert login_as("13900000002", "MEDIATOR").get(f"/case/{case_id}/agreement/new").status_code == 404
    assert login_as("13800000002").get(f"/case/{case_id}/agreement/new").status_code == 403
    assert login_as("13800000002").get(f"/case/{case_id}/document/AGREEMENT/{agreement.id}").status_code == 200
    # not pushed yet: the party cannot read it
    assert login_as("13500000001", "PARTY").get(
        f"/portal/case/{case_id}/AGREEMENT/{agreement.id}").status_code == 404
    other = make_case(app, status=CaseStatus.MEDIATING)  # parties 赵一/钱二, not 张三
    assert login_as("13500000001", "PARTY").get(f"/portal/case/{other}/AGREEMENT/{agreement.id}").status_code == 404
    assert login_as("13800000001").get("/portal/").status_code == 403


# --- who may do each operation: the workflow checks the actor itself -----------------------

def portal_actor(phone: str, portal: Portal = Portal.PARTY) -> Actor:
    return Actor(find_user(phone).id, Scope(portal=portal))


OUTSIDERS = {
    "a mediator of another case": lambda: mediator_actor("13900000002"),
    "a court user of the case's court": lambda: court_actor("13800000002"),
    "a general agent of the case": lambda: portal_actor("13500000004", Portal.AGENT),
}


def _case_with_documents(case_id):
    """The case 调解中 with a pushed agreement and a transcript its mediator signed: every
    mediator operation would succeed for 陈静."""
    case = db.session.get(Case, case_id)
    mediator = mediator_actor()
    agreement = agreements.generate(case, mediator, TERMS)
    agreements.push_preview(case, mediator, agreement)
    transcript = agreements.upload_transcript(case, mediator, "笔录.png", png())
    db.session.add(Signature(transcript=transcript, role=SignerRole.MEDIATOR, mediator_id=case.mediator_id,
                             signer_name="陈静", image_key=put_bytes(db.session, png(), prefix="signatures").key, document_sha256=transcript.sha256))
    db.session.flush()
    return case, agreement, transcript


MEDIATOR_OPERATIONS = {
    "generate": lambda case, a, t, actor: agreements.generate(case, actor, TERMS),
    "upload": lambda case, a, t, actor: agreements.upload(case, actor, "协议.pdf", b"%PDF-1.4\n%%EOF"),
    "push": lambda case, a, t, actor: agreements.push_preview(case, actor, a),
    "upload_transcript": lambda case, a, t, actor: agreements.upload_transcript(case, actor, "笔录.png", png()),
    "confirm_transcript": lambda case, a, t, actor: agreements.start_transcript_confirmation(case, actor, t),
    "issue_qr": lambda case, a, t, actor: agreements.issue_mediator_token(case, actor, a),
}


def _snapshot(case):
    """Everything a document operation could write for the case."""
    def rows(model, *where):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
    agreement_ids = sa.select(Agreement.id).where(Agreement.case_id == case.id)
    return (rows(Agreement, Agreement.case_id == case.id), rows(Transcript, Transcript.case_id == case.id),
            rows(Signature, Signature.agreement_id.in_(agreement_ids)), rows(SigningToken, SigningToken.case_id == case.id),
            rows(AuditLog, AuditLog.case_id == case.id),
            tuple(db.session.execute(sa.select(Agreement.pushed_at, Agreement.for_signature_at)
                                     .where(Agreement.case_id == case.id)).all()),
            tuple(db.session.scalars(sa.select(Transcript.confirmation_started_at)
                                     .where(Transcript.case_id == case.id))))


@pytest.mark.parametrize("outsider", list(OUTSIDERS))
@pytest.mark.parametrize("operation", list(MEDIATOR_OPERATIONS))
def test_only_the_cases_mediator_does_the_mediators_document_operations(app, case_id, operation, outsider):
    """[FAQ 3.9, 3.10]: generating, uploading, pushing, transcripts and the QR are the case's mediator's."""
    with app_ctx(app):
        case, agreement, transcript = _case_with_documents(case_id)
        before = _snapshot(case)
        with pytest.raises(NotAllowed) as refused:
            MEDIATOR_OPERATIONS[operation](case, agreement, transcript, OUTSIDERS[outsider]())
        assert "您无权对该案件进行" in refused.value.message
        assert _snapshot(case) == before
        MEDIATOR_OPERATIONS[operation](case, agreement, transcript, mediator_actor())  # the mediator may


@pytest.mark.parametrize("outsider", list(OUTSIDERS))
def test_only_the_parties_and_special_agents_sign_the_agreement(app, case_id, outsider):
    """[FAQ 3.11, 3.14; CPL art 62]: after 申请结案 the parties sign, themselves or by a special agent."""
    with app_ctx(app):
        case, agreement, _t = _case_with_documents(case_id)
        db.session.add(Signature(agreement=agreement, role=SignerRole.MEDIATOR, mediator_id=case.mediator_id,
                                 signer_name="陈静", image_key=put_bytes(db.session, png(), prefix="signatures").key, document_sha256=agreement.sha256))
        case_lifecycle.apply(case, "apply_close", mediator_actor())
        before = _snapshot(case)
        with pytest.raises(DomainError) as refused:
            agreements.party_sign(case, OUTSIDERS[outsider](), agreement, png(), None, None)
        expected = "一般代理人无权签署调解协议" if "agent" in outsider else "您无权对该案件进行“签署调解协议”操作"
        assert expected in refused.value.message
        assert _snapshot(case) == before
        assert agreements.party_sign(case, portal_actor("13500000003", Portal.AGENT), agreement, png(), None,
                                     None) is False  # 张三's special agent: 李四 has not signed yet
        assert agreements.party_sign(case, portal_actor("13500000002"), agreement, png(), None, None) is True


def test_a_qr_token_signs_only_for_the_mediator_still_on_the_case(app, case_id):
    """The phone has no login: the token names the mediator, and the workflow checks that mediator."""
    with app_ctx(app):
        case, agreement, _t = _case_with_documents(case_id)
        raw = agreements.issue_mediator_token(case, mediator_actor(), agreement)
        # the court changed the mediator after the QR was shown
        case.mediator = db.session.scalar(sa.select(Mediator).where(Mediator.phone == "13900000002"))
        db.session.flush()
        before = _snapshot(case)
        with pytest.raises(NotAllowed, match="您无权对该案件进行“调解员签字”操作"):
            agreements.sign_with_token(raw, png(), None, None)
        assert _snapshot(case) == before and agreements.find_token(raw).used_at is None


def test_buttons_come_from_the_workflow_for_each_actor(app, case_id):
    """available_document_actions drives the case page: the mediator's buttons, none for the court."""
    with app_ctx(app):
        case, agreement, transcript = _case_with_documents(case_id)
        mediator, judge = mediator_actor(), court_actor("13800000002")
        assert [a.event for a in agreements.available_document_actions(case, mediator)] == [
            "generate", "upload", "upload_transcript"]
        assert [a.event for a in agreements.available_document_actions(case, mediator, agreement)] == [
            "issue_qr", "push"]
        assert [a.event for a in agreements.available_document_actions(case, mediator, transcript)] == [
            "confirm_transcript"]  # signed by the mediator already: no QR
        for document in (None, agreement, transcript):
            assert agreements.available_document_actions(case, judge, document) == []
            assert agreements.available_document_actions(
                case, portal_actor("13500000001"), document) == []  # a preview is for reading


# The operations and the case states they are allowed in, written from the FAQ (not read from the code).
SPEC_TABLE = {
    "generate": {CaseStatus.MEDIATING},  # [FAQ 3.9, 3.11 注意(1)]
    "upload": {CaseStatus.MEDIATING},  # [FAQ 3.9]
    "push": {CaseStatus.MEDIATING},  # [FAQ 3.9(2)] the mediator may edit and push again before 申请结案
    "issue_qr": {CaseStatus.MEDIATING},  # [FAQ 3.9(3)] the mediator signs before 申请结案
    "mediator_sign": {CaseStatus.MEDIATING},  # [FAQ 3.9(3)]
    "upload_transcript": {CaseStatus.MEDIATING},  # [FAQ 3.10] not possible after 申请结案
    "confirm_transcript": {CaseStatus.MEDIATING},  # [FAQ 3.10]
    "sign_transcript": {CaseStatus.MEDIATING},  # [FAQ 3.10]
    "sign_agreement": {CaseStatus.CLOSE_REQUESTED},  # [FAQ 3.11, 3.14] parties sign after 申请结案
}
PARTY_EVENTS = {"sign_transcript", "sign_agreement"}


@pytest.mark.parametrize("event", list(SPEC_TABLE))
@pytest.mark.parametrize("status", list(CaseStatus), ids=lambda s: s.name)
def test_every_state_and_document_operation(app, status, event):
    cid = make_case(app, status=status, parties=DEMO_PARTIES)
    with app_ctx(app):
        case = db.session.get(Case, cid)
        actor = portal_actor("13500000001") if event in PARTY_EVENTS else mediator_actor()
        refused = agreements.MACHINE.refusals(case, event, actor)
        state_refusal = f"当前案件状态为“{status.label}”，不能{agreements.MACHINE[event].label}"
        if status in SPEC_TABLE[event]:
            assert not any(state_refusal in r for r in refused), refused
            assert not any("无权" in r for r in refused), refused
        else:
            assert refused == [state_refusal + "。"]


def test_the_agreement_is_dated_by_the_beijing_clock(app, case_id, monkeypatch):
    """One clock: at 01:00 on 1 January in Beijing (17:00 UTC the day before) the agreement says 1 January."""
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2027, 1, 1, 1, 0, tzinfo=clock.BEIJING))
    with app_ctx(app):
        assert agreement_context(db.session.get(Case, case_id), TERMS)["date"] == "二〇二七年一月一日"


def test_two_generations_at_once_are_one_version_and_a_conflict(app, case_id, monkeypatch):
    """Two mediators' pages generate at the same moment: both read the same last version; the
    second insert meets the (case, version) key and is a Conflict, not a server error [FAQ 3.9]."""
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        agreements.generate(case, mediator_actor(), TERMS)
        db.session.commit()
        monkeypatch.setattr(agreements, "_next_version", lambda case: 1)  # read before the first was stored
        with pytest.raises(Conflict) as refused:
            agreements.generate(case, mediator_actor(), {**TERMS, "terms": "同时生成"})
        assert "他人修改" in refused.value.message
        db.session.rollback()
        assert [a.version for a in db.session.scalars(sa.select(Agreement).where(Agreement.case_id == case_id))] == [1]
