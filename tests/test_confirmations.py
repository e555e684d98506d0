"""Issue 15 item 11: the steps that end or hand over something ask first [FAQ 3.9(3)] —
申请结案, 取消申请结案, 结案, the ministry's 录入结果, the liaison's 化解成功 / 不成功, 绑定, 重新推送.

On the case page a step with a confirmation opens its own page (a warning and the button:
works without JavaScript); a one-click form button carries `data-confirm`, which
static/court/confirm.js asks before the form is sent."""
from __future__ import annotations

import re

import pytest

from app.enums import CaseStatus
from app.views.base import Button

from .case_factory import make_case
from .helpers import text
from .test_grassroots import make_dispute

MEDIATOR = ("13900000001", "MEDIATOR")


@pytest.mark.parametrize("status, event, warning", [
    (CaseStatus.MEDIATING, "apply_close", "推送当事人签字"),
    (CaseStatus.CLOSE_REQUESTED, "cancel_close", "签字将作废"),
    (CaseStatus.CLOSE_REQUESTED, "close", "调解结束"),
])
def test_closing_steps_open_a_confirmation_page_instead_of_acting_at_once(app, login_as, status, event, warning):
    case_id = make_case(app, status=status)
    mediator = login_as(*MEDIATOR)
    page = mediator.get(f"/case/{case_id}").get_data(as_text=True)
    button = re.search(rf'<(a|button)[^>]*data-event="{event}"', page)
    assert button and button.group(1) == "a"  # a link to the confirmation page, not a one-click POST
    confirm = text(mediator.get(f"/case/{case_id}/do/{event}"))
    assert warning in confirm


def test_the_liaisons_ending_buttons_ask_before_sending(app, login_as):
    dispute_id = make_dispute(app)
    page = login_as("13600000001", "GRASSROOTS").get(f"/grassroots/{dispute_id}").get_data(as_text=True)
    for button_id, question in (("resolve", "化解成功"), ("fail", "未化解")):
        tag = re.search(rf'<button[^>]*id="{button_id}"[^>]*>', page).group(0)
        assert "data-confirm=" in tag and question in tag, tag
    assert "court/confirm.js" in page


def test_binding_asks_before_sending(app, login_as):
    page = login_as("13700000001", "MINISTRY").get("/ministry/bind/").get_data(as_text=True)
    tags = re.findall(r"<button[^>]*data-org=[^>]*>", page)
    assert tags and all("data-confirm=" in tag and "绑定" in tag for tag in tags)


def test_a_toolbar_post_button_carries_its_question(app, login_as):
    from flask import render_template_string
    with app.test_request_context():
        html = render_template_string('{% include "court/_toolbar.html" %}', csrf_token=lambda: "t",
                                      toolbar_buttons=lambda: [Button("重新推送", "/x", "btn-primary", "post",
                                                                      confirm="确定重新推送？")])
    assert 'data-confirm="确定重新推送？"' in html
