"""The court lists' list and search widgets: FAB's markup, with what is the same on every row or
every request built once (issue 17 item 5, benchmarks/pagecost.py).

FAB's ListWidget renders, for each of a page's rows, the `btn_crud` macro (three `url_for`, a
link-filter pass and a `<script>` per delete button) and a Jinja loop over the formatters. Here
the buttons are rendered once, for a placeholder key, and the row's key is put in; the cells are
formatted and escaped in Python, exactly as `{{ formatter(item[col]) }}` would. The page-level
parts (pager, page size, sort links, actions, the add button) are FAB's own macros, unchanged.
"""
from __future__ import annotations

from flask import current_app
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.widgets import ListWidget, RenderTemplateWidget, SearchWidget
from flask_babel import get_locale
from markupsafe import Markup, escape

#: a key that `url_for` leaves as it is and no row has
_PLACEHOLDER = "__row_pk__"

_BUTTONS = "court/widgets/list_buttons.html"


class LeanListWidget(ListWidget):
    template = "court/widgets/list.html"

    def __call__(self, **kwargs):
        args = {**self.template_args, **kwargs}
        env = current_app.jinja_env
        visible = env.filters["is_item_visible"]
        name = args["modelview_name"]
        can = {p: visible(p, name) for p in ("can_add", "can_show", "can_edit", "can_delete")}
        actions = env.filters["get_actions_on_list"](args.get("actions") or {}, name)
        buttons = None
        if can["can_show"] or can["can_edit"] or can["can_delete"]:
            buttons = env.get_template(_BUTTONS).render(
                can_show=can["can_show"], can_edit=can["can_edit"], can_delete=can["can_delete"],
                pk=_PLACEHOLDER, modelview_name=name, filters=args["filters"])
        formatters = args["formatters_columns"]
        columns = [(c, formatters.get(c)) for c in args["include_columns"]]
        rows = []
        for pk, item in zip(args["pks"], args["value_columns"]):
            cells = [escape(f(item[c]) if f else item[c]) for c, f in columns]
            rows.append((pk, self._buttons_for(buttons, pk, args, can), cells))
        args.update(can, actions=actions, rows=rows)
        return env.get_template(self.template).render(args)

    @staticmethod
    def _buttons_for(buttons, pk, args, can):
        if buttons is None:
            return None
        key = str(pk)
        if key.isdigit():
            return Markup(buttons.replace(_PLACEHOLDER, key))
        # a key url_for would quote: render it the slow way
        return Markup(current_app.jinja_env.get_template(_BUTTONS).render(
            can_show=can["can_show"], can_edit=can["can_edit"], can_delete=can["can_delete"],
            pk=pk, modelview_name=args["modelview_name"], filters=args["filters"]))


class CachedSearchWidget(SearchWidget):
    """FAB's search widget, with the part that is the same on every request — each search column's
    label, its rendered input and its operators — built once per view and language.

    Only for views whose search columns have fixed inputs (text, date, an enum's choices): a
    relation's select lists rows of the database and must be rendered each time. The active
    filters (the request's `_flt_` arguments) are read per request, as FAB does."""

    _fixed: dict = {}

    def __call__(self, **kwargs):
        form = self.template_args["form"]
        cols = tuple(self.template_args["include_cols"])
        key = (type(form), cols, str(get_locale()))
        fixed = self._fixed.get(key)
        if fixed is None:
            dict_filters = self.filters.get_search_filters()
            fixed = self._fixed[key] = (
                {c: as_unicode(form[c].label.text) for c in cols},
                {c: form[c]() for c in cols},
                {c: [as_unicode(flt.name) for flt in dict_filters[c]] for c in cols},
            )
        kwargs["label_columns"], kwargs["form_fields"], kwargs["search_filters"] = fixed
        kwargs["active_filters"] = self.filters.get_filters_values_tojson()
        return RenderTemplateWidget.__call__(self, **kwargs)
