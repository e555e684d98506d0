"""Issue 15 item 4 in chromium: the widgets FAB ships in English — bootstrap-datepicker, select2 and
FAB's alert modal ("No row selected" / OK) — read Chinese on a real page (court/locale.js)."""
from __future__ import annotations

import re

ENGLISH_MONTHS = re.compile(r"January|February|March|April|June|July|August|September|October|November|December")


def test_date_picker_select2_and_the_alert_read_chinese(login, live):
    page = login("13800000001").new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live.url}/cases/historical/add")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.title().startswith("新增历史案件")

    page.click("#received_on")
    picker = page.locator(".datepicker-dropdown")
    picker.wait_for(state="visible")
    shown = picker.inner_text()
    assert not ENGLISH_MONTHS.search(shown) and "年" in shown and "一" in shown, shown

    page.evaluate("$('#ministry').val('1').trigger('change')")
    clear = page.locator("#ministry + .select2 .select2-selection__clear")
    assert clear.get_attribute("title") == "清除全部"
    assert page.locator("#court + .select2 .select2-selection__placeholder, #court + .select2 "
                        ".select2-selection__rendered").first.inner_text() != "Select a State"

    page.evaluate("ab_alert('No row selected')")
    modal = page.locator("#modal-alert")
    modal.wait_for(state="visible")
    assert "未选择任何记录" in modal.inner_text() and "OK" not in modal.inner_text()
    assert errors == []
