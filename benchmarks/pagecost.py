"""Where a list request's time goes, and what each proposed cut would save (issue 17 item 5).

    .venv/bin/python -m benchmarks.pagecost [--url URL] [--repeat 15]

Nothing here changes the app's code: each cut is applied to the running app
in this process only (a patched attribute, undone after the request), so its
effect is measured before anyone writes it:

- `menu`: the sidebar (`app.menu.visible_menu`: 60 leaves, a permission check
  and a `url_for` each) built once per role set, portal, page and language,
  and reused;
- `permissions`: the user's permissions loaded once per user and portal for
  the process instead of once per request (two queries and FAB's
  role → permission walk, `CourtSecurityManager._has_view_access`);
- `templates`: Jinja's `auto_reload` off (no `stat` of every template per
  render; what "precompiled templates" can mean, since Jinja already keeps
  compiled templates in memory);
- `list widget`: FAB's ListWidget (lib.html macros, per-page permission
  filters, action checkboxes, CRUD buttons per row) replaced by one small
  template showing the same columns, formatted the same, with the same pager;
- `search widget`: FAB's SearchWidget (every filter of every search column
  rendered into hidden templates) replaced by a plain form with the same
  fields.

The app now makes the menu, permission, list-widget and (on the case lists)
search-widget cuts itself (benchmarks/README.md, "The page itself"), so on
today's code each cut shows what is left beyond the app's own version: the
menu and permission cuts bypass the app's caches for pagecost's, the widget
cuts swap the app's widgets for the bare ones above (no buttons, no filter
operators: not a page users could use).

First a breakdown of one page (inclusive timers around the pieces: the
template render, the two widgets, the sidebar, FAB's `has_access`, SQL with
fetch), then, for the first page, a status filter and a deep page, the page
with no cut, with each cut alone and with all of them, against the page floor
(pagefloor.py), median of `--repeat` rounds, configurations interleaved.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from contextlib import ExitStack, contextmanager

from jinja2 import ChoiceLoader, DictLoader

from . import generate, pgserver
from .cases import LIST_URL, PAGE_FLOOR_QUERIES, QUERIES
from .core import SQL_CLOCK
from .pagefloor import list_floor
from .run import make_context

LEAN_LIST = """<div class="well well-sm">{{ count }} · {{ page_size }}/页</div>
{% if count > 0 %}<table class="table table-bordered table-hover"><thead><tr><th></th>
{% for c in include_columns %}<th>{{ label_columns.get(c) }}</th>{% endfor %}</tr></thead><tbody>
{% for item in value_columns %}<tr><td><a href="{{ show_url }}{{ pks[loop.index0] }}">查看</a></td>
{% for c in include_columns %}{% set f = formatters_columns.get(c) %}<td>{{ f(item[c]) if f else item[c] }}</td>{% endfor %}
</tr>{% endfor %}</tbody></table>{% else %}<b>无记录</b>{% endif %}"""

LEAN_SEARCH = """<form method="get" class="form-inline">{% for name, label in fields %}
<label>{{ label }} <input class="form-control" name="{{ name }}" value="{{ values.get(name, '') }}"></label>
{% endfor %}<button class="btn btn-primary">搜索</button></form>"""


def view_of(app, name: str = "PreLitigationCaseView"):
    return next(v for v in app.appbuilder.baseviews if type(v).__name__ == name)


@contextmanager
def patched(obj, attr, value):
    had = attr in vars(obj)
    old = vars(obj).get(attr)
    setattr(obj, attr, value)
    try:
        yield
    finally:
        if had:
            setattr(obj, attr, old)
        else:
            delattr(obj, attr)


def install_templates(app) -> None:
    """The lean widgets' templates, looked up before the app's (a dict miss for every other name)."""
    if not getattr(app, "_bench_templates", False):
        app.jinja_env.loader = ChoiceLoader([DictLoader({"bench/lean_list.html": LEAN_LIST,
                                                         "bench/lean_search.html": LEAN_SEARCH}),
                                             app.jinja_env.loader])
        app._bench_templates = True


def cut_menu(app):
    import app.views as views
    from flask import g, request
    from flask_babel import get_locale

    from app.security import active_portal

    original = views.visible_menu
    cache: dict = {}

    def cached(has_access, *_app_cache):  # the app's own cache (app/menu.py) is bypassed here
        user = g.user
        key = (tuple(sorted(r.id for r in user.roles)), active_portal(), request.endpoint,
               tuple(sorted(request.args.items())), str(get_locale()))
        if key not in cache:
            cache[key] = original(has_access)
        return cache[key]

    return patched(views, "visible_menu", cached)


def cut_permissions(app):
    from flask import g, has_request_context

    from app.security import CourtSecurityManager, active_portal

    sm = app.appbuilder.sm
    cache: dict = {}

    def has_view_access(user, permission_name, view_name):
        if not has_request_context():
            return CourtSecurityManager._has_view_access(sm, user, permission_name, view_name)
        key = (user.id, active_portal())
        perms = cache.get(key)
        if perms is None:
            perms = cache[key] = sm.get_user_permissions(user)
        return (permission_name, view_name) in perms

    return patched(sm, "_has_view_access", has_view_access)


def cut_templates(app):
    @contextmanager
    def off():
        old = app.jinja_env.auto_reload
        app.jinja_env.auto_reload = False
        try:
            yield
        finally:
            app.jinja_env.auto_reload = old

    return off()


def cut_list_widget(app):
    from flask import url_for
    from flask_appbuilder.widgets import ListWidget

    view = view_of(app)

    class LeanList(ListWidget):
        template = "bench/lean_list.html"

        def __call__(self, **kwargs):
            kwargs.setdefault("show_url", url_for("CaseDetailView.detail", pk=0)[:-1])
            return super().__call__(**kwargs)

    return patched(view, "list_widget", LeanList)


def cut_search_widget(app):
    from flask import request
    from flask_appbuilder.widgets import RenderTemplateWidget

    view = view_of(app)

    class LeanSearch(RenderTemplateWidget):
        template = "bench/lean_search.html"

        def __call__(self, **kwargs):
            fields = [(f"_flt_0_{c}", view.label_columns.get(c, c)) for c in view.search_columns]
            return super().__call__(fields=fields, values=request.args)

    return patched(view, "search_widget", LeanSearch)


CUTS = {"menu": cut_menu, "permissions": cut_permissions, "templates": cut_templates,
        "list widget": cut_list_widget, "search widget": cut_search_widget}


@contextmanager
def applied(app, names):
    with ExitStack() as stack:
        for n in names:
            stack.enter_context(CUTS[n](app))
        yield


# --- the breakdown: inclusive timers -------------------------------------------------

class Timers:
    def __init__(self):
        self.ms: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.depth: dict[str, int] = {}

    def wrap(self, name, fn):
        timers = self

        def timed(*a, **k):
            if timers.depth.get(name):
                return fn(*a, **k)
            timers.depth[name] = 1
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                timers.depth[name] = 0
                timers.ms[name] = timers.ms.get(name, 0) + (time.perf_counter() - t0) * 1000
                timers.calls[name] = timers.calls.get(name, 0) + 1

        return timed


def breakdown(ctx, path: str, repeat: int) -> list[tuple[str, float, str]]:
    import flask.templating as ft
    from flask_appbuilder import widgets

    import app.views as views

    app = ctx.app
    sm = app.appbuilder.sm
    floor = list_floor(ctx, path)
    runs = []
    for _ in range(repeat):
        t = Timers()
        with ExitStack() as st:
            st.enter_context(patched(ft, "_render", t.wrap("template render (all)", ft._render)))
            st.enter_context(patched(widgets.ListWidget, "__call__",
                                     t.wrap("list widget", widgets.ListWidget.__call__)))
            st.enter_context(patched(widgets.SearchWidget, "__call__",
                                     t.wrap("search widget", widgets.SearchWidget.__call__)))
            st.enter_context(patched(views, "visible_menu", t.wrap("sidebar menu", views.visible_menu)))
            st.enter_context(patched(sm, "has_access", t.wrap("FAB has_access (all calls)", sm.has_access)))
            view = view_of(app)
            st.enter_context(patched(view.datamodel, "query", t.wrap("datamodel.query (count + rows, ORM)",
                                                                     view.datamodel.query)))
            SQL_CLOCK.total, SQL_CLOCK.on = 0.0, True
            t0 = time.perf_counter()
            ctx.client.get(path)
            total = (time.perf_counter() - t0) * 1000
            SQL_CLOCK.on = False
        t.ms["SQL, execute + fetch (all statements)"] = SQL_CLOCK.total * 1000
        t.ms["whole request"] = total
        runs.append(t)
    # the floor's SQL alone: the page's own statements executed and fetched, nothing rendered
    from app.extensions import db

    with app.app_context():
        raw = db.engine.raw_connection()
    sql_only = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        cur = raw.cursor()
        for stmt, params in floor.statements:
            cur.execute(stmt, params)
            cur.fetchall()
        cur.close()
        raw.rollback()
        sql_only.append((time.perf_counter() - t0) * 1000)
    floor_ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        floor()
        floor_ms.append((time.perf_counter() - t0) * 1000)
    raw.close()
    names = ["whole request", "SQL, execute + fetch (all statements)", "datamodel.query (count + rows, ORM)",
             "template render (all)", "list widget", "search widget", "sidebar menu", "FAB has_access (all calls)"]
    out = []
    for n in names:
        vals = [r.ms.get(n, 0.0) for r in runs]
        calls = statistics.median([r.calls.get(n, 0) for r in runs]) if n in runs[0].calls else ""
        out.append((n, statistics.median(vals), f"{calls:.0f} calls" if calls != "" else ""))
    out.append(("page floor: the same SQL, executed + fetched (DBAPI)", statistics.median(sql_only),
                f"{len(floor.statements)} statements"))
    out.append(("page floor: that SQL + minimal Flask/Jinja page", statistics.median(floor_ms), ""))
    return out


def cuts_table(ctx, repeat: int) -> str:
    app = ctx.app
    install_templates(app)
    configs = [("none", ())] + [(n, (n,)) for n in CUTS] + [("all", tuple(CUTS))]
    rows = []
    for page in PAGE_FLOOR_QUERIES:
        path = LIST_URL + QUERIES[page]
        floor = list_floor(ctx, path)
        for _label, names in configs:  # warm every configuration once
            with applied(app, names):
                assert ctx.client.get(path).status_code == 200
        times = {label: [] for label, _n in configs}
        floor_ms = []
        for i in range(repeat):
            order = configs if i % 2 == 0 else configs[::-1]
            for label, names in order:
                with applied(app, names):
                    t0 = time.perf_counter()
                    ctx.client.get(path)
                    times[label].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            floor()
            floor_ms.append((time.perf_counter() - t0) * 1000)
        f = statistics.median(floor_ms)
        base = statistics.median(times["none"])
        cells = []
        for label, _n in configs:
            m = statistics.median(times[label])
            cells.append(f"{m:.1f} ({m / f:.1f}×)" if label in ("none", "all") else f"{m:.1f} ({m - base:+.1f})")
        rows.append(f"| {page} | {f:.1f} | " + " | ".join(cells) + f" | {os.getloadavg()[0]:.2f} |")
    head = "| page | floor ms | " + " | ".join(
        ("no cut (ratio)" if l == "none" else "all cuts (ratio)" if l == "all" else f"− {l}") for l, _n in configs) + \
        " | load 1 min |"
    return "\n".join([head, "|---|---:|" + "---:|" * len(configs) + "---|"] + rows)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL") or pgserver.url("bench_1m"))
    p.add_argument("--repeat", type=int, default=15)
    a = p.parse_args(argv)
    if a.url.startswith("postgresql"):
        pgserver.ensure([])
    if not generate.exists(a.url):
        raise SystemExit(f"no data set at {a.url} (make bench-pg or benchmarks.generate)")
    ctx = make_context(a.url, a.repeat)
    print(f"load average {'/'.join(f'{x:.2f}' for x in os.getloadavg())}; {a.url.split('@')[-1]}; "
          f"median of {a.repeat}\n")
    path = LIST_URL
    print(f"Where {path} spends its time (inclusive timers; nested pieces overlap):\n")
    print("| piece | ms | |\n|---|---:|---|")
    for name, ms, note in breakdown(ctx, path, a.repeat):
        print(f"| {name} | {ms:.1f} | {note} |")
    print("\nEach cut alone and all together (ms; a single cut: its difference to no cut):\n")
    print(cuts_table(ctx, a.repeat))
    print(f"\nload average at the end {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
