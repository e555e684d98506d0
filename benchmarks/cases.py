"""Case list pages (`/cases/pre-litigation/list/`) through the app vs the SQL the page needs.

The page (app/views/cases.py, PreLitigationCaseView) shows 20 rows of the
acting court's 诉前 cases, newest first, with number, cause, parties, the
grassroots unit, status, mediator (name and phone), organisation, received
date and deadline, plus the total count for the pager. The floor is exactly
that: one COUNT(*) and one page query (the page's ids, then LEFT JOINs for
the three names on those 20 rows), through SQLAlchemy Core `text()` on a warm
connection to the same database.
"""
from __future__ import annotations

import sqlalchemy as sa

from .core import Bench, Context

LIST_URL = "/cases/pre-litigation/list/"
VIEW = "PreLitigationCaseView"
PAGE_SIZE = 20  # ScopedModelView.page_size
DEEP_PAGE = 1000
SEARCH = "张伟"
SURNAME = "王"  # one character: no bigram, the LIKE alone (app/name_grams.py)

# The page's ids first (the OFFSET walks the index only), then the 20 rows with their names.
PAGE_SQL = """
SELECT c.id, c.number, c.cause, c.party_names, g.name AS grassroots_unit, c.status,
       m.name AS mediator_name, m.phone AS mediator_phone, o.name AS organisation, c.received_on, c.deadline
FROM (SELECT c.id FROM mediation_case c WHERE {where} ORDER BY c.id DESC LIMIT :limit OFFSET :offset) p
JOIN mediation_case c ON c.id = p.id
LEFT JOIN mediator m ON m.id = c.mediator_id
LEFT JOIN organisation o ON o.id = c.organisation_id
LEFT JOIN grassroots_unit g ON g.id = c.grassroots_unit_id
ORDER BY c.id DESC
"""
COUNT_SQL = "SELECT count(*) FROM mediation_case c WHERE {where}"
BASE_WHERE = "c.court_id = :court AND c.case_type = 'PRE_LITIGATION'"


def app_page(ctx: Context, query: str):
    def fn():
        resp = ctx.client.get(LIST_URL + query)
        if resp.status_code != 200:
            raise RuntimeError(f"{LIST_URL}{query}: HTTP {resp.status_code}")
        return resp.data

    return fn


def floor_page(ctx: Context, where: str, page: int = 0, **params):
    count = sa.text(COUNT_SQL.format(where=where))
    rows = sa.text(PAGE_SQL.format(where=where))
    params = {"court": ctx.court_id, **params}

    def fn():
        total = ctx.conn.execute(count, params).scalar()
        return total, ctx.conn.execute(rows, {**params, "limit": PAGE_SIZE, "offset": page * PAGE_SIZE}).all()

    return fn


QUERIES = {  # the list pages measured: name -> query string
    "first page": "",
    "filter status = 调解中": "?_flt_0_status=MEDIATING",
    f"parties contain {SEARCH}": f"?_flt_2_party_names={SEARCH}",
    f"parties contain {SURNAME}": f"?_flt_2_party_names={SURNAME}",
    f"deep page {DEEP_PAGE}": f"?page_{VIEW}={DEEP_PAGE}",
}
#: the pages whose page floor (pagefloor.py) is measured: item 5 of issue 17
PAGE_FLOOR_QUERIES = ("first page", "filter status = 调解中", f"deep page {DEEP_PAGE}")


def page_floor_benches(ctx: Context) -> list[Bench]:
    """The list page against the same SQL through a minimal Flask + Jinja page (issue 17 item 5)."""
    from .pagefloor import list_floor

    return [Bench(f"case list: {name} vs page floor", app_page(ctx, QUERIES[name]),
                  list_floor(ctx, LIST_URL + QUERIES[name]), 2.0) for name in PAGE_FLOOR_QUERIES]


def benches(ctx: Context) -> list[Bench]:
    return sql_floor_benches(ctx) + page_floor_benches(ctx)


def sql_floor_benches(ctx: Context) -> list[Bench]:
    """The list page against the cheapest SQL for the same answer (full COUNT, 20 rows; issue 7)."""
    like = "ILIKE" if not ctx.is_sqlite else "LIKE"  # SQLite's LIKE is already case-insensitive (ASCII)
    status = BASE_WHERE + " AND c.status = :status"
    # the floor gets the page's bigram index too (app/name_grams.py: SEARCH is one bigram)
    party = BASE_WHERE + (" AND EXISTS (SELECT 1 FROM case_name_gram n WHERE n.court_id = :court AND n.gram = :gram"
                          " AND n.case_id = c.id)"
                          f" AND c.party_names {like} :q")
    return [
        Bench("case list: first page", app_page(ctx, ""), floor_page(ctx, BASE_WHERE), 2.0),
        Bench("case list: filter status = 调解中", app_page(ctx, "?_flt_0_status=MEDIATING"),
              floor_page(ctx, status, status="MEDIATING"), 2.0),
        Bench(f"case list: parties contain {SEARCH}", app_page(ctx, f"?_flt_2_party_names={SEARCH}"),
              floor_page(ctx, party, q=f"%{SEARCH}%", gram=SEARCH), 2.0),
        # one character has no bigram: the floor is the LIKE over the court's cases (a plain LIKE: 王 has no case)
        Bench(f"case list: parties contain {SURNAME}", app_page(ctx, f"?_flt_2_party_names={SURNAME}"),
              floor_page(ctx, BASE_WHERE + " AND c.party_names LIKE :q", q=f"%{SURNAME}%"), 2.0),
        Bench(f"case list: deep page {DEEP_PAGE}", app_page(ctx, f"?page_{VIEW}={DEEP_PAGE}"),
              floor_page(ctx, BASE_WHERE, DEEP_PAGE), 2.0),
    ]


def check_same_rows(ctx: Context) -> None:
    """The app page and the floor agree on the first row's number (the harness measures the same thing)."""
    html = app_page(ctx, "")().decode()
    total, rows = floor_page(ctx, BASE_WHERE)()
    if rows and rows[0].number not in html:
        raise RuntimeError(f"first row {rows[0].number} not on the app's page")
