"""Chinese everywhere (issue 2 item 9) and CSRF on every form (notes/security.md)."""
from __future__ import annotations

import io
import re
import os
import subprocess
import sys

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.models import Tribunal

from .helpers import csrf_token, make_app, text
from .helpers import count, demo_ids

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZH_PO = os.path.join(ROOT, "translations", "zh", "LC_MESSAGES", "messages.po")


def _source_msgids() -> set[str]:
    method_map = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
    keywords = {"_": None, "_l": None, "lazy_gettext": None, "gettext": None}
    ids = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(ROOT, method_map, keywords=keywords):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_zh_catalog_translates_every_msgid_in_the_source():
    with open(ZH_PO, "rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    untranslated = sorted(m.id for m in catalog if m.id and (not m.string or m.fuzzy))
    assert untranslated == []
    missing = sorted(_source_msgids() - translated)
    assert missing == [], "run `make messages` and translate these in zh: %s" % missing


def test_zh_catalog_compiles_cleanly():
    out = subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d",
                          os.path.join(ROOT, "translations"), "--statistics"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_pages_render_in_chinese_by_default(login_as):
    admin = login_as("13800000001")
    html = text(admin.get("/court-users/list/"))
    for word in ("本院用户", "单个新增", "批量导入", "姓名", "手机号", "退出"):
        assert word in html, word
    for english in (">Add<", ">Edit<", ">Delete<", ">Cancel<", "Record Count", "Court users"):
        assert english not in html, english


def test_list_filters_read_starts_and_ends_with_in_chinese_word_order(app):
    from flask_appbuilder.models.sqla.filters import FilterEndsWith, FilterStartsWith

    with app.test_request_context("/"):
        assert (str(FilterStartsWith.name), str(FilterEndsWith.name)) == ("开头是", "结尾是")


def test_login_page_offers_the_portals_in_chinese(client):
    html = text(client.get("/login/"))
    for portal in ("法院端", "调解员端", "部委端", "基层治理端", "当事人", "代理人", "忘记密码"):
        assert portal in html, portal


def test_english_is_the_second_locale(login_as):
    admin = login_as("13800000001")
    admin.get("/lang/en")
    assert "Court users" in text(admin.get("/court-users/list/"))


def test_switching_the_language_stays_on_the_page(login_as):
    """FAB went back through its own page history, which custom pages (statistics) never fill: the home page."""
    admin = login_as("13800000001")
    page = text(admin.get("/statistics/report?by=mediator"))
    link = re.search(r'href="(/lang/en\?next=[^"]+)"', page).group(1).replace("&amp;", "&")
    answer = admin.get(link)
    assert answer.status_code == 302 and answer.headers["Location"] == "/statistics/report?by=mediator"
    assert "Court users" in text(admin.get("/court-users/list/"))  # the switch itself happened
    for foreign in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/"):
        answer = admin.get("/lang/zh", query_string={"next": foreign})
        assert answer.status_code == 302 and "evil" not in answer.headers["Location"]


def test_csrf_refuses_a_post_without_token_and_get_mutations(db_url):
    app = make_app(db_url, WTF_CSRF_ENABLED=True)
    ids = demo_ids(app)
    client = app.test_client()
    page = text(client.get("/login/"))
    resp = client.post("/login/", data={"portal": "COURT", "username": "13800000001", "password": "Demo@2026",
                                        "csrf_token": csrf_token(page)})
    assert resp.status_code == 302
    assert client.post(f"/tribunals/delete/{ids['cy_tribunal']}").status_code == 400
    client.get(f"/tribunals/delete/{ids['cy_tribunal']}")
    assert count(app, Tribunal) == 1
    no_token = client.post("/court-users/import", data={"file": (io.BytesIO(b"x"), "a.xlsx")},
                           content_type="multipart/form-data")
    assert no_token.status_code == 400
