"""验证码登录, registration by code (当事人/代理人) and 调解员注册 [FAQ 1.2–1.4, 3.2; issue 14 items 1, 7].

The code rules are 忘记密码's: hashed, 5 minutes, single use, 5 tries, one a
minute and 5 an hour per phone, a limit per client address; a new code voids
older ones. Login says nothing about whether a phone is registered.
"""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.clock import utcnow
from app.enums import MediatorIdentity, SmsKind
from app.extensions import db
from app.models import AuditLog, Court, Mediator, MediatorCourt, SmsCode, SmsOutbox
from app.roles import AGENT, MEDIATOR, PARTY, Portal
from app.workflows import DomainError, TooMany, sms_codes
from app.workflows.self_service import login_by_code, request_login_code

from .helpers import app_ctx, flashes, text

CODE = "246810"
NEW_PHONE = "13512345678"


@pytest.fixture()
def fixed_code(monkeypatch):
    """Every code sent is CODE (the outbox may mask it; the test knows it)."""
    monkeypatch.setattr(sms_codes.secrets, "randbelow", lambda n: int(CODE))
    return CODE


def send(client, phone, portal="PARTY"):
    return client.post("/code-login/send", data={"portal": portal, "phone": phone})


def code_login(client, phone, code=CODE, portal="PARTY"):
    return client.post("/code-login/", data={"portal": portal, "phone": phone, "code": code})


def roles_of(app, phone):
    with app_ctx(app):
        user = app.appbuilder.sm.find_user(username=phone)
        return None if user is None else {r.name for r in user.roles}


def sms_kinds(app, phone):
    with app_ctx(app):
        return db.session.scalars(sa.select(SmsOutbox.kind).where(SmsOutbox.phone == phone)
                                  .order_by(SmsOutbox.id)).all()


def age_codes(app, phone, seconds):
    """Move the phone's codes `seconds` into the past (the minute between sends, expiry)."""
    with app_ctx(app):
        for row in db.session.scalars(sa.select(SmsCode).where(SmsCode.phone == phone)):
            row.created_at -= dt.timedelta(seconds=seconds)
            row.expires_at -= dt.timedelta(seconds=seconds)
        db.session.commit()


# --- 当事人 / 代理人: register by phone + code ------------------------------------------------

def test_a_new_phone_registers_as_party_by_code_and_is_logged_in(app, fixed_code):
    c = app.test_client()
    assert c.get("/code-login/?portal=PARTY").status_code == 200
    resp = send(c, NEW_PHONE)
    assert resp.status_code == 302 and "phone=" + NEW_PHONE in resp.headers["Location"]
    assert any("验证码已发送至" in m for m in flashes(c))
    assert sms_kinds(app, NEW_PHONE) == [SmsKind.LOGIN_CODE]
    resp = code_login(c, NEW_PHONE)
    assert resp.status_code == 302, text(resp)[:300]
    assert roles_of(app, NEW_PHONE) == {PARTY}
    assert any("已注册并以【当事人】身份登录" in m for m in flashes(c))
    # logged in as a party: the home page is the party portal
    home = c.get("/")
    assert home.status_code == 302 and "/login" not in home.headers["Location"]
    assert c.get("/", follow_redirects=True).status_code == 200
    assert c.get_cookie("login_portal").value == "PARTY"
    with app_ctx(app):
        codes = [r.summary for r in db.session.scalars(sa.select(AuditLog).where(AuditLog.actor_name == NEW_PHONE))]
        assert "account.self_registered" in codes and "account.code_login" in codes
    # the initial password went by SMS too [FAQ 2.1]
    assert SmsKind.INITIAL_PASSWORD in sms_kinds(app, NEW_PHONE)


def test_an_agent_registers_the_same_way(app, fixed_code):
    c = app.test_client()
    send(c, NEW_PHONE, "AGENT")
    assert code_login(c, NEW_PHONE, portal="AGENT").status_code == 302
    assert roles_of(app, NEW_PHONE) == {AGENT}


def test_a_phone_with_another_identity_gains_the_party_identity_and_keeps_its_password(app, fixed_code):
    with app_ctx(app):
        before = app.appbuilder.sm.find_user(username="13900000001").password
    c = app.test_client()
    send(c, "13900000001")
    assert code_login(c, "13900000001").status_code == 302
    assert {PARTY, MEDIATOR} <= roles_of(app, "13900000001")
    with app_ctx(app):
        assert app.appbuilder.sm.find_user(username="13900000001").password == before


def test_an_existing_party_logs_in_by_code_without_registering(app, fixed_code):
    c = app.test_client()
    send(c, "13500000001")
    assert code_login(c, "13500000001").status_code == 302
    assert not any("已注册" in m for m in flashes(c))
    assert SmsKind.INITIAL_PASSWORD not in sms_kinds(app, "13500000001")


# --- every other phone portal: code login for holders only, revealing nothing ------------------

@pytest.mark.parametrize("phone,portal", [("13800000001", "COURT"), ("13900000001", "MEDIATOR"),
                                          ("13700000001", "MINISTRY"), ("13600000001", "GRASSROOTS"),
                                          ("13300000001", "PLATFORM")])
def test_every_phone_portal_logs_in_by_code(app, fixed_code, phone, portal):
    c = app.test_client()
    send(c, phone, portal)
    assert code_login(c, phone, portal=portal).status_code == 302
    assert c.get("/", follow_redirects=True).status_code == 200
    with c.session_transaction() as sess:
        assert sess["portal"] == portal


def test_login_says_the_same_for_an_unregistered_phone_and_sends_it_nothing(app, fixed_code):
    answers = []
    for phone in ("13900000001", NEW_PHONE):
        c = app.test_client()
        resp = send(c, phone, "MEDIATOR")
        answers.append((resp.status_code, [m.replace(phone, "#") for m in flashes(c)]))
        page = c.get(resp.headers["Location"])
        wrong = code_login(c, phone, "000000", "MEDIATOR")
        answers.append((wrong.status_code, text(wrong).count("验证码错误，还可尝试4次")))
        assert page.status_code == 200
    assert answers[0] == answers[2] and answers[1] == answers[3]
    assert sms_kinds(app, NEW_PHONE) == []  # nobody was sent a code
    assert roles_of(app, NEW_PHONE) is None  # and nothing was registered
    # the right code of a registered phone is no key for an unregistered one
    c = app.test_client()
    assert code_login(c, NEW_PHONE, CODE, "MEDIATOR").status_code == 200
    assert roles_of(app, NEW_PHONE) is None


def test_a_wrong_code_is_refused_and_counts_the_try(app, fixed_code):
    c = app.test_client()
    send(c, "13500000001")
    resp = code_login(c, "13500000001", "111111")
    assert resp.status_code == 200 and "验证码错误，还可尝试4次" in text(resp)
    assert c.get("/").status_code == 302  # not logged in
    with app_ctx(app):
        assert db.session.scalar(sa.select(SmsCode.attempts).where(SmsCode.phone == "13500000001")) == 1


def test_five_wrong_codes_lock_the_code_with_429_even_for_the_right_one(app, fixed_code):
    c = app.test_client()
    send(c, "13500000001")
    for _ in range(4):
        assert code_login(c, "13500000001", "111111").status_code == 200
    last = code_login(c, "13500000001", "111111")
    assert last.status_code == 429 and "错误次数过多" in text(last)
    right = code_login(c, "13500000001", CODE)
    assert right.status_code == 429 and "重新获取验证码" in text(right)
    assert c.get("/").status_code == 302


def test_an_expired_code_is_refused(app, fixed_code):
    c = app.test_client()
    send(c, "13500000001")
    age_codes(app, "13500000001", 301)
    resp = code_login(c, "13500000001")
    assert "验证码已过期" in text(resp) and c.get("/").status_code == 302


def test_a_used_code_is_refused_the_second_time(app, fixed_code):
    c = app.test_client()
    send(c, "13500000001")
    assert code_login(c, "13500000001").status_code == 302
    other = app.test_client()
    resp = code_login(other, "13500000001")
    assert resp.status_code == 200 and "请先获取验证码" in text(resp)
    assert other.get("/").status_code == 302


def test_a_new_code_voids_the_older_one(app):
    with app_ctx(app):
        first = request_login_code("13500000001", Portal.PARTY, "10.0.0.1")
        db.session.commit()
    age_codes(app, "13500000001", 61)
    with app_ctx(app):
        second = request_login_code("13500000001", Portal.PARTY, "10.0.0.1")
        db.session.commit()
        if first != second:
            with pytest.raises(DomainError):
                login_by_code("13500000001", Portal.PARTY, first)
            db.session.rollback()
        user, _registered = login_by_code("13500000001", Portal.PARTY, second)
        assert user.username == "13500000001"


def test_a_code_of_one_portal_does_not_log_in_through_another(app, fixed_code):
    c = app.test_client()
    send(c, "13900000001", "MEDIATOR")
    resp = code_login(c, "13900000001", portal="COURT")
    assert resp.status_code == 200 and c.get("/").status_code == 302


def test_sends_are_limited_per_phone_with_429(app, fixed_code):
    c = app.test_client()
    assert send(c, "13500000001").status_code == 302
    again = send(c, "13500000001")
    assert again.status_code == 429 and "每分钟最多发送一次" in text(again) and "秒后重试" in text(again)
    for _ in range(4):
        age_codes(app, "13500000001", 61)
        send(c, "13500000001")
    age_codes(app, "13500000001", 61)
    sixth = send(c, "13500000001")
    assert sixth.status_code == 429 and "一小时内" in text(sixth)


def test_sends_are_limited_per_client_address(app, fixed_code):
    app.config["SMS_CODE_MAX_PER_IP_PER_HOUR"] = 2
    c = app.test_client()
    assert send(c, "13512340001").status_code == 302
    assert send(c, "13512340002").status_code == 302
    third = send(c, "13512340003")
    assert third.status_code == 429 and "当前网络" in text(third)
    assert sms_kinds(app, "13512340003") == []


def test_bad_phone_and_the_organisation_portal_are_refused_in_chinese(app):
    c = app.test_client()
    resp = send(c, "12345")
    assert resp.status_code == 200 and "请输入以1开头的11位手机号" in text(resp)
    resp = send(c, "13500000001", "ORGANISATION")
    assert "统一社会信用代码" in text(resp)
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsCode)) == 0


# --- the login page remembers the portal; a phone opens on 当事人 ----------------------------------

def _checked(html):
    import re
    return re.findall(r'value="(\w+)" checked', html)


def test_the_login_page_opens_on_the_remembered_portal_or_on_party_on_a_phone(app, login_as):
    desktop = app.test_client()
    assert _checked(text(desktop.get("/login/"))) == ["COURT"]
    phone = app.test_client()
    ua = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}
    assert _checked(text(phone.get("/login/", headers=ua))) == ["PARTY"]
    assert _checked(text(phone.get("/code-login/", headers=ua))) == ["PARTY"]
    c = app.test_client()
    from .helpers import login
    assert login(c, "13900000001", "MEDIATOR").status_code == 302
    assert c.get_cookie("login_portal").value == "MEDIATOR"
    c.get("/logout/")
    assert _checked(text(c.get("/login/", headers=ua))) == ["MEDIATOR"]  # remembered beats the phone default


# --- 调解员注册 [FAQ 3.2] ------------------------------------------------------------------------

REG = {"phone": NEW_PHONE, "code": CODE, "name": "赵调解", "id_number": "11010519491231002X",
       "expertise": "劳动争议"}


def test_a_mediator_registers_with_phone_and_code_then_applies_to_a_court(app, fixed_code):
    c = app.test_client()
    assert "调解员注册" in text(c.get("/register/mediator/"))
    resp = c.post("/register/mediator/send", data={"phone": NEW_PHONE, "name": "赵调解"})
    assert resp.status_code == 200 and "验证码已发送至" in text(resp) and 'value="赵调解"' in text(resp)
    resp = c.post("/register/mediator/", data=REG)
    assert resp.status_code == 302 and "/my/certifications" in resp.headers["Location"]
    with app_ctx(app):
        m = db.session.scalar(sa.select(Mediator).where(Mediator.phone == NEW_PHONE))
        assert (m.name, m.id_number, m.expertise, m.identity, m.organisation_id) == (
            "赵调解", "11010519491231002X", "劳动争议", MediatorIdentity.INVITED, None)
        chaoyang = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
    assert roles_of(app, NEW_PHONE) == {MEDIATOR}
    page = c.get("/my/certifications/")
    assert page.status_code == 200 and "申请认证" in text(page)
    resp = c.post("/my/certifications/apply", data={"court_id": chaoyang, "note": "自主注册"})
    assert resp.status_code == 302
    with app_ctx(app):
        assert db.session.scalar(sa.select(MediatorCourt.status).join(Mediator).where(
            Mediator.phone == NEW_PHONE)).name == "PENDING"


def test_registration_lists_every_bad_field_and_saves_nothing(app, fixed_code):
    c = app.test_client()
    c.post("/register/mediator/send", data={"phone": NEW_PHONE})
    resp = c.post("/register/mediator/", data={**REG, "name": "", "id_number": "110105194912310021",
                                                "expertise": ""})
    html = text(resp)
    assert "请填写姓名" in html and "身份证号" in html and "请填写擅长领域" in html
    with app_ctx(app):
        assert db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == NEW_PHONE)) is None
    assert roles_of(app, NEW_PHONE) is None
    assert c.post("/register/mediator/", data=REG).status_code == 302  # the code was not used up


def test_registration_refuses_a_wrong_code(app, fixed_code):
    c = app.test_client()
    c.post("/register/mediator/send", data={"phone": NEW_PHONE})
    resp = c.post("/register/mediator/", data={**REG, "code": "000000"})
    assert "验证码错误" in text(resp) and 'value="赵调解"' in text(resp)
    assert roles_of(app, NEW_PHONE) is None


def test_a_phone_already_a_mediator_is_told_to_log_in_or_reset(app, fixed_code):
    c = app.test_client()
    c.post("/register/mediator/send", data={"phone": "13900000001"})
    resp = c.post("/register/mediator/", data={**REG, "phone": "13900000001"})
    html = text(resp)
    assert "已注册过调解员身份" in html and "忘记密码" in html and "登录" in html
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Mediator)
                                 .where(Mediator.phone == "13900000001")) == 1
    assert c.get("/").status_code == 302


def test_a_party_registering_as_mediator_keeps_its_password(app, fixed_code):
    with app_ctx(app):
        before = app.appbuilder.sm.find_user(username="13500000001").password
    c = app.test_client()
    c.post("/register/mediator/send", data={"phone": "13500000001"})
    assert c.post("/register/mediator/", data={**REG, "phone": "13500000001"}).status_code == 302
    assert {PARTY, MEDIATOR} <= roles_of(app, "13500000001")
    with app_ctx(app):
        assert app.appbuilder.sm.find_user(username="13500000001").password == before
        assert "原有密码" in db.session.scalar(sa.select(SmsOutbox.body).where(SmsOutbox.phone == "13500000001")
                                            .order_by(SmsOutbox.id.desc()).limit(1))


def test_registration_codes_are_limited_like_login_codes(app, fixed_code):
    c = app.test_client()
    c.post("/register/mediator/send", data={"phone": NEW_PHONE})
    again = c.post("/register/mediator/send", data={"phone": NEW_PHONE})
    assert again.status_code == 429 and "秒后" in text(again)


def test_code_rules_directly_expired_and_unknown(app):
    with app_ctx(app):
        now = utcnow()
        code = sms_codes.issue("13500000001", "PARTY", sms_codes.LOGIN, None, now=now)
        with pytest.raises(DomainError, match="过期"):
            sms_codes.check("13500000001", "PARTY", sms_codes.LOGIN, code, now=now + dt.timedelta(seconds=301))
        with pytest.raises(TooMany):
            sms_codes.issue("13500000001", "PARTY", sms_codes.LOGIN, None, now=now + dt.timedelta(seconds=10))
        db.session.rollback()
