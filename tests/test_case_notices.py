"""Issue 15 item 5: who hears what by SMS about their case [FAQ 1.1 当事人收到案件短信提示].

Every text starts with the one brand 【人民法院调解平台】, exactly once (app/sms.py).
"""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import SmsOutbox

from .helpers import app_ctx
from .test_after_mediation import CY_ADMIN, ENDED_CAUSE, applications, apply_in_portal, case_id as case_by_cause

BRAND = "【人民法院调解平台】"


def test_every_sms_carries_the_one_brand_exactly_once(app, login_as):
    """Every text of the outbox — the demo's and a 司法确认 result (which had its own 【法院调解平台】)."""
    ended = case_by_cause(app, ENDED_CAUSE)
    apply_in_portal(login_as, ended, "JUDICIAL_CONFIRMATION")  # asks 李四 to consent
    [doc] = applications(app, ended)
    login_as(CY_ADMIN).post(f"/application/{doc.id}/do/refuse", data={"reason": "不符合受理条件"})
    with app_ctx(app):
        bodies = list(db.session.scalars(sa.select(SmsOutbox.body)))
    assert len(bodies) > 20
    wrong = [b for b in bodies if not b.startswith(BRAND) or b.count("【") != 1 or "【法院调解平台】" in b]
    assert wrong == []
