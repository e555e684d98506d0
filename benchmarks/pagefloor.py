"""The honest floor of a page (issue 17 item 5): the SAME SQL the page runs, through a minimal page.

The list floor of `cases.py` is the cheapest SQL for the same answer; it runs
a full `COUNT(*)` the page never does (the page counts to 10,001 at most,
`app.views.base.CappedSQLAInterface`) and so flatters the ratio on a big
court, while the README's "SQL execute" column used to leave out fetching.
This floor instead:

1. requests the app's page once with a listener on the app's engine and keeps
   the data statements it ran, with their parameters, exactly as they went to
   the DBAPI (`page_statements`: for a list, the capped count, the page's rows
   and the `selectinload`s of the relations it shows; for the case page,
   everything except Flask-AppBuilder's security tables and the session's
   user);
2. serves a minimal Flask app whose one route executes those statements on a
   DBAPI connection of the same engine, fetches every row, rolls back (as the
   app's request does) and renders the result with one small Jinja template
   (a heading, the count, a table of the shown columns, a pager);
3. is measured through Flask's test client, like the app.

So app / floor is what the page costs beyond its own SQL and a template: the
framework, permission checks, menus, widgets. Target ≤ 2× (issue 17 item 5).
"""
from __future__ import annotations

import re
from typing import Any, Callable

from flask import Flask

from .core import Context

SECURITY = re.compile(r"\b(ab_\w+|court_staff|mediator_court|organisation_court)\b")
LIST_RELATIONS = ("mediator", "organisation", "grassroots_unit", "court")

LIST_TEMPLATE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1>
<p>共 {{ count }} 条</p>
<table><thead><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
<nav>{% for p in pages %}<a href="?page={{ p }}">{{ p + 1 }}</a> {% endfor %}</nav>
</body></html>"""

ANY_TEMPLATE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1>
{% for rows in results %}<table>{% for row in rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% endfor %}</body></html>"""


def capture(ctx: Context, path: str) -> list[tuple[str, Any]]:
    """Every (statement, DBAPI parameters) the app runs for one request of `path` (warm)."""
    from sqlalchemy import event

    from app.extensions import db

    with ctx.app.app_context():
        engine = db.engine
    ctx.client.get(path)
    seen: list[tuple[str, Any]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        resp = ctx.client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    if resp.status_code != 200:
        raise RuntimeError(f"{path}: HTTP {resp.status_code}")
    return seen


def list_statements(seen: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """A list page's own SQL: the count, the page, and the relation loads that follow the page."""
    out: list[tuple[str, Any]] = []
    for stmt, params in seen:
        low = " ".join(stmt.lower().split())
        if SECURITY.search(low):
            continue
        if "from mediation_case" in low or "from (select mediation_case" in low:
            out.append((stmt, params))
        elif out and any(low.split(" from ", 1)[-1].startswith(t + " ") for t in LIST_RELATIONS) and " in (" in low:
            out.append((stmt, params))
    kinds = [("count(" in " ".join(s.lower().split())[:200]) for s, _p in out]
    if not out or not kinds[0] or sum(kinds) != 1:
        raise RuntimeError("could not find the list's count and page among its statements:\n" +
                           "\n".join(s[:200] for s, _p in seen))
    return out


def data_statements(seen: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Everything but Flask-AppBuilder's security tables and the certification tables the
    permission and scope checks read (the case page's own data)."""
    return [(s, p) for s, p in seen if not SECURITY.search(s.lower())]


def _floor_app(ctx: Context, statements: list[tuple[str, Any]], render: Callable) -> Callable[[], bytes]:
    from app.extensions import db

    with ctx.app.app_context():
        raw = db.engine.raw_connection()
    floor = Flask("pagefloor")

    @floor.route("/")
    def page():
        cur = raw.cursor()
        results = []
        for stmt, params in statements:
            cur.execute(stmt, params)
            results.append((cur.description, cur.fetchall()))
        cur.close()
        raw.rollback()
        return render(results)

    client = floor.test_client()

    def fn() -> bytes:
        resp = client.get("/")
        if resp.status_code != 200:
            raise RuntimeError(f"page floor: HTTP {resp.status_code}")
        return resp.data

    fn.statements = statements  # type: ignore[attr-defined]
    return fn


def list_floor(ctx: Context, path: str, title: str = "诉前委派调解", page_size: int = 20) -> Callable[[], bytes]:
    """The page floor of a case list page (`path`): its count, rows and relation names."""
    from app.enums import CaseStatus

    with ctx.app.test_request_context():
        status_label = {m.name: str(m.label) for m in CaseStatus}
    statements = list_statements(capture(ctx, path))
    template = Flask("pagefloor-template").jinja_env.from_string(LIST_TEMPLATE)
    headers = ["诉前调解案号", "案由", "当事人", "基层单位", "状态", "调解员", "调解组织", "收案日期", "调解期限"]

    tables = [" ".join(stmt.split()).split(" FROM ", 1)[1].split()[0] for stmt, _p in statements[2:]]

    def render(results):
        (_d, count_rows), (desc, rows), *relations = results
        names: dict[str, dict] = {}
        for table, (rdesc, rrows) in zip(tables, relations):
            cols = [d[0] for d in rdesc]
            name, phone = cols.index("name"), cols.index("phone") if "phone" in cols else None
            names[table] = {r[0]: (r[name], r[phone] if phone is not None else "") for r in rrows}
        col = {d[0]: i for i, d in enumerate(desc)}

        def get(row, name):
            return row[col[f"mediation_case_{name}"]]

        shown = []
        for row in rows:
            med = names.get("mediator", {}).get(get(row, "mediator_id"))
            org = names.get("organisation", {}).get(get(row, "organisation_id"))
            unit = names.get("grassroots_unit", {}).get(get(row, "grassroots_unit_id"))
            shown.append((get(row, "number") or "", get(row, "cause"), get(row, "party_names"),
                          unit[0] if unit else "", status_label.get(get(row, "status"), get(row, "status")),
                          f"{med[0]} {med[1]}" if med else "", org[0] if org else "", get(row, "received_on"),
                          get(row, "deadline") or ""))
        count = count_rows[0][0]
        pages = range(min(10, (count + page_size - 1) // page_size))
        return template.render(title=title, count=count, headers=headers, rows=shown, pages=pages)

    return _floor_app(ctx, statements, render)


def any_floor(ctx: Context, path: str, select=data_statements, title: str = "页面") -> Callable[[], bytes]:
    """The page floor of any page: its data statements, every row rendered in plain tables."""
    statements = select(capture(ctx, path))
    template = Flask("pagefloor-template").jinja_env.from_string(ANY_TEMPLATE)

    def render(results):
        return template.render(title=title, results=[rows for _d, rows in results])

    return _floor_app(ctx, statements, render)


def describe(statements: list[tuple[str, Any]]) -> str:
    """The statements a floor runs, one line each (for the README and `--verbose`)."""
    return "\n".join("    " + " ".join(s.split())[:160] for s, _p in statements)
