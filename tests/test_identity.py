"""实名认证 [FAQ 3.13, Rules art 17]: signing waits for a verified identity bound to the case's
name and ID number; 人工审核 in 平台后台; the ID images only for the person and platform staff,
deleted after the retention."""
from __future__ import annotations

import datetime as dt
import io
import os

import pytest
import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import User

from app.storage import put_bytes
from app.clock import utcnow
from app.enums import CaseStatus, IdentityStatus, SignerRole
from app.extensions import db
from app.models import AuditLog, Case, CaseParty, IdentityVerification, Signature, Transcript
from app.roles import PARTY, Portal
from app.security import Scope
from app.workflows import DomainError, agreements, identity
from app.workflows.accounts import ensure_account, find_user
from app.workflows.actor import SYSTEM, Actor
from app.workflows.engine import NEW

from .case_factory import add_agent, make_case, mediator_actor
from .helpers import PASSWORD, app_ctx, last_sms, logged_in, text
from .test_agreements import data_url, png

QIAN, QIAN_ID = "13511112222", "110105199001010029"  # 钱七: a party who has not verified yet
SUN, SUN_ID = "13511113333", "110105199202020039"    # 孙八: the other side of 钱七's case
MEDIATOR = "13900000001"  # 陈静, the case's mediator
COURT = "13800000002"  # a judge of the case's court (朝阳)
PLATFORM = "13300000001"  # 陈客服, platform support: 实名审核
STRANGER = "13500000004"  # 刘代理: an agent of other cases only
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x00" * 200


def images(**override):
    files = {"front": (io.BytesIO(png()), "front.png"), "back": (io.BytesIO(JPEG), "back.jpg"),
             "holding": (io.BytesIO(png()), "holding.png")}
    files.update(override)
    return {k: v for k, v in files.items() if v is not None}


@pytest.fixture()
def store(app, tmp_path):
    app.config["FILE_STORE_DIR"] = str(tmp_path / "files")
    return tmp_path / "files"


@pytest.fixture()
def case_id(app, store):
    """A 调解中 case of 陈静: 钱七 (not verified) against 孙八, with a transcript 陈静 signed and
    sent for confirmation."""
    with app_ctx(app):
        for phone, name in ((QIAN, "钱七"), (SUN, "孙八")):
            ensure_account(phone, name, [PARTY], password=PASSWORD, notify=False)
        db.session.commit()
    cid = make_case(app, status=CaseStatus.MEDIATING,
                    parties=[("APPLICANT", "钱七", QIAN, QIAN_ID), ("RESPONDENT", "孙八", SUN, SUN_ID)])
    with app_ctx(app):
        case = db.session.get(Case, cid)
        transcript = agreements.upload_transcript(case, mediator_actor(), "笔录.png", png())
        db.session.add(Signature(transcript=transcript, role=SignerRole.MEDIATOR, mediator_id=case.mediator_id,
                                 signer_name="陈静", image_key=put_bytes(db.session, png(), prefix="signatures").key, document_sha256=transcript.sha256))
        agreements.start_transcript_confirmation(case, mediator_actor(), transcript)
        db.session.commit()
    return cid


def transcript_of(app, case_id) -> int:
    with app_ctx(app):
        return db.session.scalar(sa.select(Transcript.id).where(Transcript.case_id == case_id))


def party_signatures(app, case_id) -> int:
    with app_ctx(app):
        return db.session.scalar(sa.select(sa.func.count()).select_from(Signature).join(Transcript).where(
            Transcript.case_id == case_id, Signature.role != SignerRole.MEDIATOR))


def verification(app, phone) -> IdentityVerification | None:
    with app_ctx(app):
        row = db.session.scalar(sa.select(IdentityVerification).join(User, IdentityVerification.user_id == User.id)
                                .where(User.username == phone))
        if row is not None:
            db.session.expunge(row)
        return row


# 钱七 and 孙八 are made in each test: they log in afresh (login_as keeps a session naming the account
# id, which PostgreSQL does not hand out again after the rollback)


def submit(client, name="钱七", id_number=QIAN_ID, **files):
    return client.post("/portal/identity/", data={"name": name, "id_number": id_number, **images(**files)},
                       content_type="multipart/form-data")


def review(client, iid, event, reason=""):
    return client.post(f"/identity-review/{iid}/{event}", data={"reason": reason})


def sign(client, case_id, tid):
    return client.post(f"/portal/case/{case_id}/TRANSCRIPT/{tid}/sign",
                       data={"signature": data_url()})


# --- the state × event table ---------------------------------------------------------

# Written from FAQ 3.13 and the issue (not read from the code): the state each event leaves from,
# and where it goes. 未认证 is a person with no verification yet.
SPEC_TABLE = {
    "submit": ({"未认证", "已驳回"}, "待审核"),  # submit, and resubmit after 驳回
    "face_pass": ({"待审核"}, "已认证"),  # the face adapter matched (never, with the local one)
    "approve": ({"待审核"}, "已认证"),  # 人工审核 通过
    "reject": ({"待审核"}, "已驳回"),  # 人工审核 驳回 with a reason
}
STATES = {"未认证": None, "待审核": IdentityStatus.PENDING, "已认证": IdentityStatus.VERIFIED,
          "已驳回": IdentityStatus.REJECTED}


@pytest.mark.parametrize("event", list(SPEC_TABLE))
@pytest.mark.parametrize("state", list(STATES))
def test_every_state_and_verification_event(app, state, event):
    with app_ctx(app):
        user = find_user("13500000001")
        subject = IdentityVerification(user_id=user.id, status=STATES[state], name="张三", id_number="x", phone="p")
        actor = {"submit": Actor(user.id, Scope(portal=Portal.PARTY)), "face_pass": SYSTEM,
                 "approve": Actor(find_user(PLATFORM).id, Scope(portal=Portal.PLATFORM, is_platform=True)),
                 "reject": Actor(find_user(PLATFORM).id, Scope(portal=Portal.PLATFORM, is_platform=True))}[event]
        sources, target = SPEC_TABLE[event]
        refused = identity.MACHINE.refusals(subject, event, actor)
        # a person with no verification row cannot be reviewed: nothing on a screen offers it
        state_refusal = f"当前实名认证状态为“{state if STATES[state] else '—'}”"
        if state in sources:
            assert not any(state_refusal in r or "无权" in r for r in refused), refused
        else:
            assert len(refused) == 1 and state_refusal in refused[0], refused
        assert identity.MACHINE[event].target.label == target
        assert (NEW in identity.MACHINE[event].sources) == ("未认证" in sources)


def test_only_the_person_submits_and_only_platform_staff_review(app):
    with app_ctx(app):
        zhang = find_user("13500000001")
        pending = IdentityVerification(user_id=zhang.id, status=IdentityStatus.PENDING)
        new = IdentityVerification(user_id=zhang.id)
        for outsider in (mediator_actor(), Actor(find_user("13500000002").id, Scope(portal=Portal.PARTY)),
                         Actor(zhang.id, Scope(portal=Portal.MEDIATOR))):
            assert any("无权" in r for r in identity.MACHINE.refusals(new, "submit", outsider))
            assert any("无权" in r for r in identity.MACHINE.refusals(pending, "approve", outsider))
        assert any("无权" in r for r in identity.MACHINE.refusals(
            pending, "approve", Actor(zhang.id, Scope(portal=Portal.PARTY))))  # not one's own approval


# --- signing waits for verification ------------------------------------------------------

def test_signing_is_refused_until_verified_then_allowed(app, login_as, case_id):
    tid = transcript_of(app, case_id)
    qian = logged_in(app, QIAN, "PARTY")
    pad = text(qian.get(f"/portal/case/{case_id}/TRANSCRIPT/{tid}/sign"))
    assert "签署前请先完成实名认证（当前：未认证）" in pad and 'id="go-verify"' in pad
    assert 'id="submit-signature"' not in pad
    resp = sign(qian, case_id, tid)  # posted anyway
    assert "签署前请先完成实名认证" in text(resp)
    assert party_signatures(app, case_id) == 0

    # 待审核 is not verified either
    assert submit(qian).status_code == 302
    sign(qian, case_id, tid)
    assert party_signatures(app, case_id) == 0
    assert "当前：待审核" in text(qian.get(f"/portal/case/{case_id}/TRANSCRIPT/{tid}/sign"))

    staff = login_as(PLATFORM, "PLATFORM")
    review(staff, verification(app, QIAN).id, "approve")
    resp = sign(qian, case_id, tid)
    assert "已完成签字" in text(resp)
    assert party_signatures(app, case_id) == 1


def test_a_mismatch_of_name_or_id_number_is_refused_with_the_reason(app, login_as, case_id):
    tid = transcript_of(app, case_id)
    qian = logged_in(app, QIAN, "PARTY")
    submit(qian, id_number="110105199202020039")  # a valid number, but not the one the case records
    review(login_as(PLATFORM, "PLATFORM"), verification(app, QIAN).id, "approve")
    assert verification(app, QIAN).status is IdentityStatus.VERIFIED
    sign(qian, case_id, tid)
    assert party_signatures(app, case_id) == 0
    pad = text(qian.get(f"/portal/case/{case_id}/TRANSCRIPT/{tid}/sign"))
    assert ("您的实名认证信息（钱七，身份证号110105********0039）与本案登记的签署人（钱七，身份证号"
            "110105********0029）不一致，不能签署") in pad


def test_a_name_mismatch_is_refused_in_the_workflow_too(app, case_id):
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        user = find_user(QIAN)
        db.session.add(IdentityVerification(user_id=user.id, phone=QIAN, name="钱七七", id_number=QIAN_ID,
                                            status=IdentityStatus.VERIFIED))
        db.session.flush()
        transcript = db.session.get(Transcript, transcript_of(app, case_id))
        with pytest.raises(DomainError, match="您的实名认证信息（钱七七"):
            agreements.party_sign(case, Actor(user.id, Scope(portal=Portal.PARTY)), transcript, png(), None, None)


def test_an_agent_signs_with_its_own_verified_identity(app, case_id):
    """王律师 (demo: verified) is 钱七's special agent here: the agent's name binds, not the party's."""
    with app_ctx(app):
        applicant = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == case_id,
                                                                    CaseParty.phone == QIAN))
    add_agent(app, applicant, phone="13500000003", name="王律师")
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        transcript = db.session.get(Transcript, transcript_of(app, case_id))
        agent = Actor(find_user("13500000003").id, Scope(portal=Portal.AGENT))
        agreements.party_sign(case, agent, transcript, png(), None, None)
        assert [s.role for s in transcript.signatures if s.role is not SignerRole.MEDIATOR] == [SignerRole.AGENT]


# --- 人工审核 -----------------------------------------------------------------------------

def test_manual_review_approves_with_an_sms(app, login_as, case_id, store):
    qian = logged_in(app, QIAN, "PARTY")
    page = text(qian.get("/portal/identity/"))
    assert "未认证" in page and "身份证人像面" in page and "手持身份证照片" in page
    resp = submit(qian)
    assert resp.status_code == 302
    row = verification(app, QIAN)
    assert row.status is IdentityStatus.PENDING and row.name == "钱七" and row.id_number == QIAN_ID
    assert all(os.path.exists(store / key) for key in (row.front_key, row.back_key, row.holding_key))
    assert "待审核" in text(qian.get("/portal/"))

    staff = login_as(PLATFORM, "PLATFORM")
    queue = text(staff.get("/identity-review/"))
    assert "钱七" in queue and "110105********0029" in queue and "待审核" in queue
    detail = text(staff.get(f"/identity-review/{row.id}"))
    assert QIAN_ID in detail and f"/identity-image/{row.id}/front" in detail and "驳回理由" in detail
    assert review(staff, row.id, "approve").status_code == 302
    row = verification(app, QIAN)
    assert row.status is IdentityStatus.VERIFIED and row.reviewed_by_id == find_user_id(app, PLATFORM)
    assert "实名认证已通过" in last_sms(app, QIAN)
    assert "已认证" in text(qian.get("/portal/identity/"))
    assert 'id="identity-form"' not in text(qian.get("/portal/identity/"))


def find_user_id(app, phone):
    with app_ctx(app):
        return find_user(phone).id


def test_manual_review_rejects_with_a_reason_then_the_person_resubmits(app, login_as, case_id, store):
    qian = logged_in(app, QIAN, "PARTY")
    submit(qian)
    first = verification(app, QIAN)
    staff = login_as(PLATFORM, "PLATFORM")
    resp = review(staff, first.id, "reject", reason="  ")
    assert "请填写驳回理由" in text(resp)
    assert verification(app, QIAN).status is IdentityStatus.PENDING
    review(staff, first.id, "reject", reason="手持照片看不清身份证号")
    row = verification(app, QIAN)
    assert row.status is IdentityStatus.REJECTED and row.review_reason == "手持照片看不清身份证号"
    assert "实名认证未通过：手持照片看不清身份证号" in last_sms(app, QIAN)
    page = text(qian.get("/portal/identity/"))
    assert "已驳回" in page and "手持照片看不清身份证号" in page and 'id="identity-form"' in page
    # reviewing again is refused: it is no longer 待审核
    assert "当前实名认证状态为“已驳回”，不能通过" in text(review(staff, first.id, "approve"))
    assert verification(app, QIAN).status is IdentityStatus.REJECTED
    submit(qian)
    again = verification(app, QIAN)
    assert again.status is IdentityStatus.PENDING and again.front_key != first.front_key
    assert again.review_reason is None
    assert not os.path.exists(store / first.front_key)  # the rejected images went with the resubmission


@pytest.mark.parametrize("bad, message", [
    (dict(name=""), "请填写与身份证一致的姓名"),
    (dict(id_number="110105199001010028"), "身份证号码不正确"),
    (dict(front=None), "请上传身份证人像面"),
    (dict(holding=(io.BytesIO(b"%PDF-1.4 not an image"), "h.png")), "手持身份证照片：只接受 JPG 或 PNG 图片"),
    (dict(back=(io.BytesIO(b""), "b.png")), "请上传身份证国徽面"),
])
def test_bad_input_is_refused_in_chinese_and_nothing_is_kept(app, login_as, case_id, store, bad, message):
    qian = logged_in(app, QIAN, "PARTY")
    fields = {k: v for k, v in bad.items() if k in ("name", "id_number")}
    files = {k: v for k, v in bad.items() if k not in fields}
    resp = submit(qian, **fields, **files)
    assert resp.status_code == 200 and message in text(resp)
    assert 'id="identity-form"' in text(resp)
    assert verification(app, QIAN) is None
    # the case's transcript and signature are in the store too; no ID image is
    assert not (store / "identity").exists() or not any(p.is_file() for p in (store / "identity").rglob("*"))


def test_an_oversize_image_is_refused(app, login_as, case_id, store):
    app.config["ID_IMAGE_MAX_BYTES"] = 1024
    try:
        resp = submit(logged_in(app, QIAN, "PARTY"), front=(io.BytesIO(png() + b"\x00" * 2048), "f.png"))
    finally:
        app.config["ID_IMAGE_MAX_BYTES"] = 5 * 1024 * 1024
    assert "身份证人像面：图片超过" in text(resp)
    assert verification(app, QIAN) is None


# --- the images: only the person and platform staff -----------------------------------------

@pytest.mark.parametrize("who, portal", [
    (MEDIATOR, "MEDIATOR"),  # the case's mediator
    (COURT, "COURT"),  # the case's court
    (SUN, "PARTY"),  # the other party
    (STRANGER, "AGENT"),  # someone of other cases
    (None, None),  # not logged in
])
def test_id_images_are_forbidden_to_everyone_but_the_person_and_platform_staff(app, login_as, case_id, who,
                                                                              portal):
    qian = logged_in(app, QIAN, "PARTY")
    submit(qian)
    row = verification(app, QIAN)
    client = (logged_in(app, who, portal) if who == SUN else login_as(who, portal)) if who else app.test_client()
    for side in identity.SIDES:
        assert client.get(f"/identity-image/{row.id}/{side}").status_code == 403
    assert row.name not in text(client.get("/identity-review/", follow_redirects=True)) or who is None
    own = qian.get(f"/identity-image/{row.id}/front")
    assert own.status_code == 200 and own.data == png() and own.headers["Cache-Control"].startswith("no-store")
    staff = login_as(PLATFORM, "PLATFORM").get(f"/identity-image/{row.id}/back")
    assert staff.status_code == 200 and staff.data == JPEG and staff.mimetype == "image/jpeg"


# --- retention -------------------------------------------------------------------------------

def test_retention_deletes_the_images_after_review_and_audits_it(app, login_as, case_id, store):
    qian = logged_in(app, QIAN, "PARTY")
    submit(qian)
    row = verification(app, QIAN)
    keys = [row.front_key, row.back_key, row.holding_key]
    review(login_as(PLATFORM, "PLATFORM"), row.id, "approve")
    with app_ctx(app):
        assert identity.purge_due_images(utcnow() + dt.timedelta(days=29)) == 0  # within the retention
        db.session.commit()
    assert all(os.path.exists(store / k) for k in keys)
    with app_ctx(app):
        assert identity.purge_due_images(utcnow() + dt.timedelta(days=31)) >= 1
        db.session.commit()
    assert not any(os.path.exists(store / k) for k in keys)
    row = verification(app, QIAN)
    assert row.front_key is None and row.images_purged_at is not None
    assert row.status is IdentityStatus.VERIFIED and row.id_number == QIAN_ID  # the binding stays
    assert qian.get(f"/identity-image/{row.id}/front").status_code == 404
    with app_ctx(app):
        audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "identity_verification",
                                                             AuditLog.entity_id == row.id,
                                                             AuditLog.summary == identity.IMAGES_PURGED)).all()
        assert len(audit) == 1
    staff = login_as(PLATFORM, "PLATFORM")
    assert "审核后已删除" in text(staff.get(f"/identity-review/{row.id}"))
    assert "身份证照片保存期满后删除" in text(staff.get("/audit/list/"))


def test_pending_images_are_kept_whatever_their_age(app, login_as, case_id, store):
    submit(logged_in(app, QIAN, "PARTY"))
    with app_ctx(app):
        identity.purge_due_images(utcnow() + dt.timedelta(days=3650))
        db.session.commit()
    assert verification(app, QIAN).front_key is not None


def test_the_worker_round_purges(app, login_as, case_id, store, monkeypatch):
    submit(logged_in(app, QIAN, "PARTY"))
    review(login_as(PLATFORM, "PLATFORM"), verification(app, QIAN).id, "reject", reason="照片模糊")
    app.config["ID_IMAGE_RETENTION_DAYS"] = 0
    try:
        from app.operations import Worker
        with app_ctx(app):
            assert Worker(interval=0).round() is True
    finally:
        app.config["ID_IMAGE_RETENTION_DAYS"] = 30
    assert verification(app, QIAN).front_key is None


def test_a_backup_never_keeps_id_images_past_their_retention(app, login_as, case_id, store, monkeypatch, tmp_path):
    """The worker purges each round, but a backup taken between rounds (or with no worker) copied the images."""
    from app import backup
    submit(logged_in(app, QIAN, "PARTY"))
    review(login_as(PLATFORM, "PLATFORM"), verification(app, QIAN).id, "reject", reason="照片模糊")
    assert verification(app, QIAN).front_key is not None
    seen = {}

    def snapshot(directory):
        seen["front_key"] = verification(app, QIAN).front_key
        return {"tables": {}, "files": {}}

    monkeypatch.setattr(backup, "backup", snapshot)
    app.config["ID_IMAGE_RETENTION_DAYS"] = 0
    try:
        made = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b")])
    finally:
        app.config["ID_IMAGE_RETENTION_DAYS"] = 30
    assert made.exit_code == 0, made.output
    assert seen == {"front_key": None} and "purged the ID images of" in made.output


# --- who may open each screen ------------------------------------------------------------------

@pytest.mark.parametrize("who, portal", [(MEDIATOR, "MEDIATOR"), (COURT, "COURT"), ("13800000001", "COURT"),
                                         ("13500000001", "PARTY"), ("13500000003", "AGENT")])
def test_only_platform_staff_open_the_review_queue(app, login_as, who, portal):
    client = login_as(who, portal)
    for url in ("/identity-review/", "/identity-review/1"):
        resp = client.get(url)
        assert resp.status_code in (302, 403), url
        assert "实名审核" not in text(client.get("/", follow_redirects=True)) or portal == "PLATFORM"
    assert client.post("/identity-review/1/approve").status_code in (302, 403)


@pytest.mark.parametrize("who, portal", [(MEDIATOR, "MEDIATOR"), (COURT, "COURT"), (PLATFORM, "PLATFORM")])
def test_only_parties_and_agents_open_the_verification_page(app, login_as, who, portal):
    client = login_as(who, portal)
    assert client.get("/portal/identity/").status_code in (302, 403)
    assert client.post("/portal/identity/", data={"name": "x"}).status_code in (302, 403)


def test_the_platform_menu_has_the_review_queue(app, login_as):
    assert "实名审核" in text(login_as(PLATFORM, "PLATFORM").get("/identity-review/"))


def test_the_face_adapter_verifies_when_it_matches(app, login_as, case_id, monkeypatch):
    from app import identity_check

    class Matches:
        def check(self, name, id_number, holding_photo):
            assert holding_photo == png()
            return identity_check.FaceResult(identity_check.FaceOutcome.PASSED, "ref-1")

    monkeypatch.setattr(identity, "face_verifier", lambda: Matches())
    submit(logged_in(app, QIAN, "PARTY"))
    row = verification(app, QIAN)
    assert row.status is IdentityStatus.VERIFIED and row.reviewed_by_id is None


def test_the_local_face_adapter_routes_to_manual_review(app):
    from app import identity_check

    with app.app_context():
        assert identity_check.face_verifier().check("张三", "x", b"").outcome is identity_check.FaceOutcome.MANUAL
