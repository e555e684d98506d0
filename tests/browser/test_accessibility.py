"""Accessibility acceptance of issue 15: axe-core (npm `axe-core`, pinned in package.json, installed
into node_modules by `make test`'s `npm ci`) injected with Playwright into six pages — login, case
list, case detail, the statistics report, the party portal and the liaison's form — finds no
critical and no serious violation (WCAG 2 A/AA rules and axe's best practices)."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Agreement, Case, Court

AXE = os.path.join(os.path.dirname(__file__), "..", "..", "node_modules", "axe-core", "axe.min.js")

pytestmark = pytest.mark.skipif(
    not os.path.exists(AXE) and os.environ.get("BROWSER_TESTS_REQUIRED") != "1",
    reason="node_modules/axe-core missing (make test runs npm ci)")


def _ended_case(live) -> tuple[int, int]:
    """README's signed demo case (房屋租赁合同纠纷) and its agreement."""
    with live.ctx():
        court = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
        pk = db.session.scalar(sa.select(Case.id).where(Case.court_id == court, Case.cause == "房屋租赁合同纠纷"))
        agreement = db.session.scalar(sa.select(Agreement.id).where(Agreement.case_id == pk))
        db.session.remove()
    return pk, agreement


def _serious(page) -> list[str]:
    """axe.run on the page: the critical and serious violations, one line each with the elements."""
    assert os.path.exists(AXE), "node_modules/axe-core/axe.min.js missing: run npm ci (make test does)"
    page.add_script_tag(path=AXE)
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.filter(v => v.impact === "critical" || v.impact === "serious").map(
            v => v.impact + " " + v.id + ": " + v.help + " — " + v.nodes.slice(0, 5).map(
                n => n.target.join(" ")).join(" | "));
    }""")
    return result


PAGES = [
    # (name, who, portal, path, width)
    ("login", None, None, "/login/", 1280),
    ("case list", "13800000001", "COURT", "/cases/pre-litigation/list/", 1280),
    ("case detail", "13800000001", "COURT", "/case/{case}", 1280),
    ("report", "13800000001", "COURT", "/statistics/report", 1280),
    ("party portal", "13500000001", "PARTY", "/portal/", 375),
    ("liaison form", "13600000001", "GRASSROOTS", "/grassroots/new", 375),
    # issue 15 item 19: the signed agreement read on a phone
    ("document reading", "13500000001", "PARTY", "/portal/case/{case}/AGREEMENT/{agreement}/view", 375),
]


@pytest.mark.parametrize("name,who,portal,path,width", PAGES, ids=[p[0] for p in PAGES])
def test_axe_finds_no_critical_or_serious_violation(browser, live, login, name, who, portal, path, width):
    """Issue 15 acceptance: 0 critical and 0 serious axe-core violations on each page."""
    if who is None:
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN", bypass_csp=True)
    else:
        context = login(who, portal, width=width, bypass_csp=True)
    try:
        page = context.new_page()
        case, agreement = _ended_case(live)
        response = page.goto(live.url + path.format(case=case, agreement=agreement))
        assert response.status == 200, (name, response.status, page.url)
        assert "/login" not in page.url or who is None, page.url
        page.wait_for_load_state("networkidle")
        if width == 375:  # a phone page: no sideways scrolling
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, name
        found = _serious(page)
        assert not found, name + ":\n" + "\n".join(found)
    finally:
        if who is None:
            context.close()
