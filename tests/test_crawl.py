"""No English where users look (issue 15 items 3 and 4, acceptance; SPEC §1: a Chinese UI).

The crawl logs in as every demo account of README.md's table, opens every page
its sidebar shows and the first detail page of each list, and fails on what a
user should never read: an English word outside a short whitelist (brand
names, units, file types), `None`, a snake_case identifier, an enum code, or
a Python dict/list repr. It reads the visible text and the attributes a user
reads (title, placeholder, alt, aria-label, the value of a button), never
<script>/<style>.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.roles import Portal

from .helpers import app_ctx, text

README = Path(__file__).resolve().parent.parent / "README.md"

#: ASCII words a Chinese page may show: brand and product names, units, file types, the language switch
WHITELIST = {
    "API", "APP", "CTID", "CSV", "DOC", "DOCX", "GB", "HTTP", "HTTPS", "JPEG", "JPG", "JSON", "KB", "MB",
    "MKV", "MP3", "MP4", "M4A", "PDF", "PNG", "QR", "SMS", "URL", "WAV", "WEBM", "XLS", "XLSX", "ZIP",
    "WebRTC", "Excel", "English",
    "SHA",  # SHA-256, an agreement's fingerprint
    "admin",  # the login name of README's 平台管理员 account: data, shown in 平台后台 › 用户
}

_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9_]*")
_SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
_ENUM = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
_REPR = re.compile(r"[{\[]\s*['\"][^'\"]*['\"]\s*[:,\]]")
_NONE = re.compile(r"\bNone\b")
#: ids people quote (a message id, a request id, a fingerprint): not words, whatever letters they hold
_HEX_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{32,}\b")
#: attributes whose value a user reads
_READ_ATTRS = ("title", "placeholder", "alt", "aria-label")


class _Visible(HTMLParser):
    """The text a user reads on a page, and its links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.main_links: list[str] = []
        self._skip = 0
        self._main = 0
        self.lang = None
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style", "template"):
            self._skip += 1
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "title":
            self._in_title = True
        if tag == "main":
            self._main += 1
        for name in _READ_ATTRS:
            if a.get(name):
                self.parts.append(a[name])
        if tag == "input" and (a.get("type") or "").lower() in ("submit", "button", "reset") and a.get("value"):
            self.parts.append(a["value"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
            if self._main:
                self.main_links.append(a["href"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style", "template"):
            self._skip -= 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1
        if tag == "title":
            self._in_title = False
        if tag == "main" and self._main:
            self._main -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if not self._skip and data.strip():
            self.parts.append(data)


def parse(html: str) -> _Visible:
    page = _Visible()
    page.feed(html)
    return page


def findings(parts) -> list[str]:
    """What a user should not read in `parts` (strings), each with its text."""
    found = []
    for part in parts:
        part = _HEX_ID.sub("", " ".join(part.split()))
        # a token with digits in it is an identifier (a message id, a credit code), not a word
        bad = [w for w in _WORD.findall(part) if len(w) >= 3 and not any(c.isdigit() for c in w)
               and w not in WHITELIST and w.upper() not in WHITELIST]
        for pattern, what in ((_NONE, "None"), (_SNAKE, "snake_case"), (_ENUM, "enum code"), (_REPR, "repr")):
            if pattern.search(part):
                bad.append(what)
        if bad:
            found.append(f"{bad}: {part[:160]}")
    return found


def demo_accounts() -> list[tuple[str, str]]:
    """(account, portal label) of every row of README.md's demo account table."""
    body = README.read_text(encoding="utf-8").split("## Demo accounts", 1)[1]
    rows = []
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not line.startswith("|") or cells[0] in ("account", "---"):
            if rows and not line.startswith("|"):
                break
            continue
        for account in cells[0].split(","):
            rows.append((account.strip(), cells[1]))
    return rows


ACCOUNTS = demo_accounts()

#: links that change something or send a file, not pages to read
_NOT_A_PAGE = re.compile(r"/(delete|download|export|logout|lang|action|api|static|file|image|recording|"
                         r"identity-image|video|room|xlsx|docx|pdf)\b|\.(xlsx|docx|pdf|png|jpg|csv)$", re.I)
_DETAIL = re.compile(r"/show/\d+|/\d+/?$|/\d+/[a-z-]+/?$")


def _portal(label: str, app) -> str:
    with app_ctx(app):
        for portal in Portal:
            if str(portal.label) == label:
                return portal.name
    raise AssertionError(f"README portal {label!r} is not a portal")


def _local(href: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or _NOT_A_PAGE.search(parts.path):
        return None
    return href.split("#", 1)[0]


def crawl(client) -> dict[str, list[str]]:
    """Every sidebar page and the first detail page of each → its findings (and page-level faults)."""
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()

    def visit(url) -> _Visible | None:
        if url in seen:
            return None
        seen.add(url)
        resp = client.get(url, follow_redirects=True)  # a portal's home sends it to its own start page
        if resp.status_code != 200:
            problems[url] = [f"status {resp.status_code}"]
            return None
        if not resp.mimetype == "text/html":
            return None
        page = parse(text(resp))
        found = findings(page.parts)
        if not page.lang or not page.lang.startswith("zh"):
            found.append(f"<html lang={page.lang!r}>")
        if not page.title.strip():
            found.append("no <title>")
        if found:
            problems[url] = found
        return page

    home = visit("/")
    assert home is not None, problems
    menu = [u for u in (_local(h) for h in _sidebar(client.get("/", follow_redirects=True))) if u]
    titles = {}
    for url in menu:
        page = visit(url)
        if page is None:
            continue
        titles[url] = page.title.strip()
        detail = next((u for u in (_local(h) for h in page.main_links) if u and _DETAIL.search(urlsplit(u).path)
                       and u not in menu), None)
        if detail:
            visit(detail)
    if len(menu) > 1 and len(set(titles.values())) == 1:
        problems["<title>"] = [f"every page is titled {next(iter(titles.values()))!r}"]
    return problems


def _sidebar(resp) -> list[str]:
    html = text(resp)
    nav = re.search(r'<nav class="court-sidebar".*?</nav>', html, re.S)
    return re.findall(r'href="([^"]+)"', nav.group(0)) if nav else []


@pytest.mark.parametrize("account,portal_label", ACCOUNTS, ids=[a for a, _p in ACCOUNTS])
def test_crawl_every_demo_account_reads_chinese_only(app, login_as, account, portal_label):
    """Issue 15 item 4 acceptance: every sidebar page and one detail page each, as every demo role."""
    client = login_as(account, _portal(portal_label, app))
    problems = crawl(client)
    assert not problems, "\n".join(f"{url}: {'; '.join(found)}" for url, found in problems.items())


def test_readme_table_lists_every_portal():
    """The crawl covers each portal the README names (a demo row lost from the table would go unchecked)."""
    assert len(ACCOUNTS) >= 15
    assert {p for _a, p in ACCOUNTS} >= {"法院端", "调解员端", "部委端", "基层治理端", "当事人", "代理人", "平台后台", "调解组织端"}


@pytest.mark.parametrize("snippet,bad", [
    ("状态：None", True), ("court_application", True), ("PENDING_REVIEW", True), ("{'a': 1}", True),
    ("Clock Started On", True), ("上传 PDF，不超过 5 MB", False), ("第 3 页", False), ("['x', 'y']", True),
    ("消息编号 abcdefab-0000-4000-8000-abcdefabcdef", False), ("<app.models.X object at 0x7f>", True),
])
def test_crawl_checker_catches_what_it_should(snippet, bad):
    """The checker itself: it flags English, None, codes and reprs, and lets units and brands pass."""
    assert bool(findings([snippet])) is bad


def _page_findings(client, url) -> list[str]:
    resp = client.get(url)
    assert resp.status_code == 200, url
    return findings(parse(text(resp)).parts)


def test_a_hand_over_reads_chinese_in_the_simulated_intranet_and_the_push_records(app, login_as):
    """Issue 15 item 4: the simulated intranet's types and results and the push detail's payload are
    Chinese, not `intranet.confirmation`, `confirmed` or a dict [FAQ 3.6, 3.15]."""
    from .test_after_mediation import ENDED_CAUSE, LI, accept, applications, apply_in_portal, case_id, inbox, \
        run_worker

    ended = case_id(app, ENDED_CAUSE)
    apply_in_portal(login_as, ended, "JUDICIAL_CONFIRMATION")
    application = applications(app, ended)[0]
    login_as(LI, "PARTY").post(f"/portal/after/application/{application.id}/consent")
    assert accept(login_as, application.id).status_code == 302
    assert run_worker(app)["sent"] == 1
    court = login_as("13800000001")
    assert _page_findings(court, "/simulated-intranet/") == []
    [received] = inbox(app)
    court.post(f"/simulated-intranet/{received.id}/result", data={"result": "confirmed",
                                                                   "number": applications(app, ended)[0].number})
    assert _page_findings(court, "/simulated-intranet/") == []
    admin = login_as("admin", "PLATFORM")
    message_id = applications(app, ended)[0].outbox_message.id
    for url in ("/pushes/list/", f"/pushes/show/{message_id}"):
        assert _page_findings(admin, url) == [], url
