"""Login through portals [SPEC §1, FAQ 3.14(2)] and 忘记密码 by SMS code [FAQ 1.2–1.4, 7.3]."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from app.enums import AuditAction
from app.extensions import db
from app.models import AuditLog, SmsCode
from app.roles import Portal
from app.workflows import DomainError
from app.workflows.accounts import CodeRejected, request_reset_code, reset_password

from .helpers import app_ctx, login, text
from .helpers import last_sms


@pytest.mark.parametrize("user,portal", [
    ("13800000001", "COURT"), ("13900000001", "MEDIATOR"), ("13700000001", "MINISTRY"),
    ("13600000001", "GRASSROOTS"), ("13500000001", "PARTY"), ("13500000003", "AGENT"),
    ("13300000001", "PLATFORM"), ("admin", "PLATFORM"),
])
def test_every_demo_account_logs_in_through_its_portal(login_as, user, portal):
    assert login_as(user, portal).get("/", follow_redirects=True).status_code == 200


def test_wrong_portal_is_refused_naming_the_right_one(client):
    resp = login(client, "13900000001", "COURT")
    assert resp.status_code == 200
    html = text(resp)
    assert "没有" in html and "【调解员端】" in html
    assert client.get("/").status_code == 302  # not logged in


def test_wrong_password_is_refused(client):
    resp = login(client, "13800000001", "COURT", "wrong-password1")
    assert resp.status_code == 200
    assert "账号或密码错误" in text(resp)


def test_login_accepts_plus86_and_spaces(client):
    assert login(client, "+86 138 0000 0001", "COURT").status_code == 302


def test_portal_narrows_roles_to_that_identity(app, login_as):
    """One phone, two identities: the portal decides which one acts (SPEC §1)."""
    with app_ctx(app):
        from app.roles import PARTY

        sm = app.appbuilder.sm
        user = sm.find_user(username="13900000001")
        user.roles.append(sm.find_role(PARTY))
        db.session.commit()
    as_party = login_as("13900000001", "PARTY")
    assert as_party.get("/my/certifications/").status_code == 403
    as_mediator = login_as("13900000001", "MEDIATOR")
    assert as_mediator.get("/my/certifications/").status_code == 200


# --- forgot password -------------------------------------------------------

def test_reset_by_sms_code_then_login_with_new_password(app, client, sms_text):
    resp = client.post("/password/forgot", data={"portal": "COURT", "phone": "13800000001"})
    assert resp.status_code == 302
    code = re.search(r"(\d{6})", sms_text("13800000001")).group(1)
    assert code not in last_sms(app, "13800000001")  # 短信记录 masks it (M8)
    with app_ctx(app):
        stored = db.session.scalars(sa.select(SmsCode.code_hash)).all()
        assert code not in " ".join(stored)  # stored hashed
    resp = client.post("/password/reset", data={"portal": "COURT", "phone": "13800000001", "code": code,
                                                "password": "NewPass2026", "confirm": "NewPass2026"})
    assert resp.status_code == 302
    assert login(app.test_client(), "13800000001", "COURT", "NewPass2026").status_code == 302
    assert "/login" in login(app.test_client(), "13800000001", "COURT").headers.get("Location", "/login")


def test_forgot_password_page_does_not_reveal_unknown_phones(app, client):
    resp = client.post("/password/forgot", data={"portal": "COURT", "phone": "13812345678"})
    assert resp.status_code == 302
    assert last_sms(app, "13812345678") is None


def test_forgot_password_refuses_a_bad_phone(client):
    resp = client.post("/password/forgot", data={"portal": "COURT", "phone": "12345"})
    assert resp.status_code == 200 and "11位手机号" in text(resp)


def _request(app, phone="13800000001", portal=Portal.COURT, now=None):
    with app.test_request_context():
        code = request_reset_code(phone, portal, now=now)
        db.session.commit()
        return code


def _reset(app, code, now=None, phone="13800000001", password="NewPass2026"):
    """As the request edge runs it: commit, or on a refusal keep only what the error says to keep."""
    with app.test_request_context():
        try:
            reset_password(phone, Portal.COURT, code, password, now=now)
        except DomainError as exc:
            if exc.keeps_changes:
                db.session.commit()
            else:
                db.session.rollback()
            raise
        db.session.commit()


def _attempts(app, phone="13800000001"):
    with app_ctx(app):
        return db.session.scalar(sa.select(SmsCode.attempts).where(SmsCode.phone == phone)
                                 .order_by(SmsCode.id.desc()).limit(1))


def test_wrong_code_is_refused_and_counts_the_attempt(app):
    code = _request(app)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with pytest.raises(CodeRejected, match="还可尝试4次"):
        _reset(app, wrong)
    assert _attempts(app) == 1  # kept, though the step was refused
    _reset(app, code)  # the right code still works after one mistake


def test_expired_code_is_refused(app):
    now = dt.datetime(2026, 11, 29, 8, 0)
    code = _request(app, now=now)
    with pytest.raises(DomainError, match="已过期"):
        _reset(app, code, now=now + dt.timedelta(minutes=5, seconds=1))


def test_five_wrong_attempts_lock_the_code(app):
    code = _request(app)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(CodeRejected):
            _reset(app, wrong)
    with pytest.raises(DomainError, match="错误次数过多"):
        _reset(app, code)


def test_codes_are_rate_limited_per_phone(app):
    now = dt.datetime(2026, 11, 29, 8, 0)
    _request(app, now=now)
    with pytest.raises(DomainError, match="秒后"):
        _request(app, now=now + dt.timedelta(seconds=30))
    for i in range(1, 5):
        _request(app, now=now + dt.timedelta(minutes=i * 2))
    with pytest.raises(DomainError, match="一小时"):
        _request(app, now=now + dt.timedelta(minutes=11))


def test_weak_new_password_is_refused(app):
    code = _request(app)
    with pytest.raises(DomainError, match="8"):
        _reset(app, code, password="short")


def test_code_for_one_portal_does_not_reset_another(app):
    code = _request(app, phone="13900000001", portal=Portal.MEDIATOR)
    with pytest.raises(DomainError, match="获取验证码"):
        _reset(app, code, phone="13900000001")  # tries the COURT portal


def test_reset_page_shows_wrong_code_message_and_keeps_the_phone(app, client):
    client.post("/password/forgot", data={"portal": "COURT", "phone": "13800000001"})
    resp = client.post("/password/reset", data={"portal": "COURT", "phone": "13800000001", "code": "000000x",
                                                "password": "NewPass2026", "confirm": "NewPass2026"})
    assert resp.status_code == 200
    assert "验证码错误" in text(resp)  # the edge's flash, shown on the form it re-rendered
    assert 'value="13800000001"' in text(resp)
    assert _attempts(app) == 1  # the edge committed the failed attempt before refusing


def test_reset_audit_row_stores_a_code_and_the_trail_reads_it_in_chinese(app, login_as):
    code = _request(app)
    _reset(app, code)
    with app_ctx(app):
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.entity == "ab_user",
                                                          AuditLog.action == AuditAction.PASSWORD)
                                .order_by(AuditLog.id.desc()).limit(1))
        assert row.summary == "account.password_reset" and row.after == {"portal": "COURT"}
        row_id = row.id
    page = text(login_as("admin", "PLATFORM").get(f"/audit/show/{row_id}"))
    assert "短信验证码重置密码" in page and "account.password_reset" not in page
