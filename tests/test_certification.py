"""我的设置 › 认证法院 › 申请认证, and the court's approve/reject [FAQ 3.2]."""
from __future__ import annotations

import sqlalchemy as sa

from app.enums import CertificationStatus
from app.extensions import db
from app.models import MediatorCourt

from .helpers import app_ctx, flashes, text
from .helpers import audit_rows, demo_ids, last_sms


def link_of(app, phone, court_id):
    from app.models import Mediator

    with app_ctx(app):
        link = db.session.scalar(
            sa.select(MediatorCourt).join(Mediator)
            .where(Mediator.phone == phone, MediatorCourt.court_id == court_id))
        if link is not None:
            db.session.expunge(link)
        return link


def test_mediator_applies_and_the_court_approves(app, login_as):
    ids = demo_ids(app)
    mediator = login_as("13900000001", "MEDIATOR")
    assert "北京市朝阳区人民法院" in text(mediator.get("/my/certifications/"))
    resp = mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"], "note": "住海淀，申请加入"})
    assert resp.status_code == 302
    link = link_of(app, "13900000001", ids["haidian"])
    assert link.status is CertificationStatus.PENDING and link.note == "住海淀，申请加入"

    # 海淀 sees it; 朝阳 does not.
    assert "陈静" in text(login_as("13800000011").get("/mediator-certifications/list/"))
    assert login_as("13800000001").get(f"/mediator-certifications/show/{link.id}").status_code == 404

    haidian = login_as("13800000011")
    page = text(haidian.get(f"/mediator-certifications/show/{link.id}"))
    assert "通过" in page and "驳回" in page
    assert haidian.post(f"/mediator-certifications/approve/{link.id}").status_code == 302
    assert link_of(app, "13900000001", ids["haidian"]).status is CertificationStatus.CERTIFIED
    assert "陈静" in text(haidian.get("/mediators/invited/list/"))
    assert "北京市海淀区人民法院" in last_sms(app, "13900000001")
    rows = audit_rows(app, "mediator_court", entity_id=link.id)
    assert [r.after.get("status") for r in rows if r.after] == ["PENDING", "CERTIFIED"]


def test_court_rejects_with_a_reason_and_the_mediator_can_apply_again(app, login_as):
    ids = demo_ids(app)
    mediator = login_as("13900000001", "MEDIATOR")
    mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"]})
    link = link_of(app, "13900000001", ids["haidian"])
    haidian = login_as("13800000011")
    resp = haidian.post(f"/mediator-certifications/reject/{link.id}", data={"reason": "  "})
    assert resp.status_code == 200 and "驳回理由" in text(resp)
    assert link_of(app, "13900000001", ids["haidian"]).status is CertificationStatus.PENDING

    haidian.post(f"/mediator-certifications/reject/{link.id}", data={"reason": "材料不全"})
    link = link_of(app, "13900000001", ids["haidian"])
    assert link.status is CertificationStatus.REJECTED and link.reject_reason == "材料不全"
    assert "材料不全" in text(mediator.get("/my/certifications/"))

    mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"], "note": "已补充"})
    assert link_of(app, "13900000001", ids["haidian"]).status is CertificationStatus.PENDING


def test_applying_twice_or_when_certified_is_refused(app, login_as):
    ids = demo_ids(app)
    mediator = login_as("13900000001", "MEDIATOR")
    mediator.post("/my/certifications/apply", data={"court_id": ids["chaoyang"]})
    assert "已通过" in " ".join(flashes(mediator))
    mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"]})
    mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"]})
    assert "等待" in " ".join(flashes(mediator))
    mediator.post("/my/certifications/apply", data={"court_id": ""})
    assert "请选择" in " ".join(flashes(mediator))


def test_deciding_twice_is_refused(app, login_as):
    ids = demo_ids(app)
    login_as("13900000001", "MEDIATOR").post("/my/certifications/apply", data={"court_id": ids["haidian"]})
    link = link_of(app, "13900000001", ids["haidian"])
    haidian = login_as("13800000011")
    haidian.post(f"/mediator-certifications/approve/{link.id}")
    haidian.get("/")  # drain the success flash
    haidian.post(f"/mediator-certifications/reject/{link.id}", data={"reason": "x"})
    assert link_of(app, "13900000001", ids["haidian"]).status is CertificationStatus.CERTIFIED


def test_only_mediators_reach_my_certifications(login_as):
    assert login_as("13800000001").get("/my/certifications/").status_code == 403
    assert login_as("13800000001").post("/my/certifications/apply", data={"court_id": "1"}).status_code == 403
