"""The load test's sessions (issue 17 item 7), run by `benchmarks/load.py` with locust (headless).

    BENCH_LOAD_PLAN=plan.json locust -f benchmarks/locustfile.py --headless -u 100 ... --host http://127.0.0.1:PORT

The plan (written by load.py) names the accounts, the case ids and the
target: `app` (mixed roles), `app-court` (only the court journey, the peer's
load on the app) or `peer` (the court journey on the default FAB ModelView).
Each simulated user is one session: it logs in once (not measured: stats
are reset when every user is running) and then works with think time
between clicks (`wait` in the plan, seconds), like a person:

- court clerk (法院): the 诉前 case list, a status filter, a page further on,
  now and then a party-name search, and a case page;
- mediator (调解员端): 我的案件, one of their cases, and now and then a
  transition: 延长调解期限 by a day (the form, then the POST: a write with
  its audit row), which any 调解中 case allows again and again;
- party (当事人端): the portal page of their cases and documents;
- report viewer (court admin): 案件统计报表 by mediator for a month, by
  organisation for a year, and the 数据看板.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import time

from locust import FastHttpUser, between, events, task

PLAN = json.load(open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8"))
TARGET = PLAN["target"]
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


def csrf(html: str) -> str:
    m = CSRF.search(html)
    return VALUE.search(m.group(0)).group(1) if m else ""


class Session(FastHttpUser):
    abstract = True
    wait_time = between(*PLAN["wait"])
    portal = "COURT"

    def account(self) -> tuple[str, str]:
        raise NotImplementedError

    def on_start(self):
        username, password = self.account()
        page = self.client.get("/login/", name="login (not counted)").text
        data = {"username": username, "password": password, "csrf_token": csrf(page)}
        if TARGET != "peer":
            data["portal"] = self.portal
        with self.client.post("/login/", data=data, name="login (not counted)", allow_redirects=False,
                              catch_response=True) as resp:
            if resp.status_code != 302 or "/login" in resp.headers.get("Location", ""):
                resp.failure(f"login {username}: HTTP {resp.status_code}")

    def page(self, path: str, name: str):
        with self.client.get(path, name=name, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"HTTP {resp.status_code}")
            elif 'name="password"' in (resp.text or ""):
                resp.failure("sent back to the login page")
            return resp


class Court(Session):
    """法院 clerk: lists, filters, case pages (also the peer's load)."""

    fixed_count = PLAN["users"]["court"]

    def account(self):
        return PLAN["court_user"]

    @task(4)
    def list_first(self):
        self.page(PLAN["list"], "court: list, first page")

    @task(2)
    def list_status(self):
        self.page(PLAN["list"] + PLAN["filter_status"], "court: list, status filter")

    @task(1)
    def list_later_page(self):
        self.page(PLAN["list"] + PLAN["page_param"] + str(random.randint(1, 50)), "court: list, pages 2-51")

    @task(1)
    def list_search(self):
        self.page(PLAN["list"] + PLAN["filter_party"] + random.choice(PLAN["surnames"]),
                  "court: list, party-name search")

    @task(4)
    def case_page(self):
        self.page(PLAN["detail"].format(id=random.choice(PLAN["case_ids"])), "court: case page")


class Mediator(Session):
    """调解员: my cases, a case, now and then 延长调解期限 by one day."""

    fixed_count = PLAN["users"]["mediator"]
    portal = "MEDIATOR"

    def account(self):
        self.me = PLAN["mediators"][next(_MEDIATOR_NO) % len(PLAN["mediators"])]  # one session per mediator
        return self.me["phone"], PLAN["password"]

    @task(3)
    def my_cases(self):
        self.page("/my/cases/list/", "mediator: my cases")

    @task(3)
    def case_page(self):
        self.page(f"/case/{random.choice(self.me['cases'])}", "mediator: case page")

    @task(1)
    def extend(self):
        pk = random.choice(self.me["cases"])
        resp = self.page(f"/case/{pk}/do/extend", "mediator: extend form")
        if resp.status_code != 200 or 'name="version"' not in resp.text:
            return  # the form redirects when the case cannot be extended now (counted as a page)
        data = {"csrf_token": csrf(resp.text), "version": VERSION.search(resp.text).group(1), "days": "1",
                "reason": "双方当事人同意延长调解期限"}
        with self.client.post(f"/case/{pk}/do/extend", data=data, name="mediator: extend (POST, a write)",
                              allow_redirects=False, catch_response=True) as post:
            if post.status_code != 302 or f"/case/{pk}" not in post.headers.get("Location", ""):
                post.failure(f"extend: HTTP {post.status_code}")


class Party(Session):
    """当事人: the portal page."""

    fixed_count = PLAN["users"]["party"]
    portal = "PARTY"

    def account(self):
        return random.choice(PLAN["parties"]), PLAN["password"]

    @task
    def portal_page(self):
        self.page("/portal/", "party: portal")


class Reports(Session):
    """The court admin reading statistics."""

    fixed_count = PLAN["users"]["report"]

    def account(self):
        return PLAN["court_user"]

    @task(3)
    def report_month(self):
        self.page(PLAN["report_month"], "report: by mediator, one month")

    @task(2)
    def report_year(self):
        self.page(PLAN["report_year"], "report: by organisation, one year")

    @task(1)
    def dashboard(self):
        self.page("/statistics/dashboard", "report: dashboard")


_MEDIATOR_NO = itertools.count()
# the peer and app-court runs have clerks only: a class without sessions is not a user class
for _cls in (Court, Mediator, Party, Reports):
    _cls.abstract = not _cls.fixed_count
del _cls  # locust would take the name for one more user class


# Every response time from WARMUP seconds after the stats reset (when the last session has started:
# the logins and each worker's first renders are over by then), written out at the end for load.py:
# exact percentiles, and pages pooled across names.
WARMUP = float(os.environ.get("BENCH_LOAD_WARMUP", "20"))
_TIMES: list = []
_SINCE = [float("inf")]


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **_kw):
    if time.time() >= _SINCE[0]:
        _TIMES.append((name, response_time, bool(exception)))


@events.spawning_complete.add_listener
def _reset(**_kw):
    _TIMES.clear()
    _SINCE[0] = time.time() + WARMUP


@events.quitting.add_listener
def _dump(environment, **_kw):
    out = os.environ.get("BENCH_LOAD_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump({"seconds": time.time() - _SINCE[0], "requests": _TIMES}, fh, ensure_ascii=False)
