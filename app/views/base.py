"""Shared view machinery: court scoping that no route can step around.

`ScopedModelView` applies the acting user's scope as a base filter (list,
show, edit and delete then 404 for other courts' rows) and closes the holes
FAB leaves open (notes/fab5.md §3): actions load rows without base filters, so
each row is re-checked here; the generic file download route serves any file
to anyone with `can_download`, so it is shut.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Callable, Optional

import sqlalchemy as sa
from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_appbuilder.fields import QuerySelectField
from wtforms.fields.core import UnboundField
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterContains, SQLAFilterConverter, get_field_setup_query
from flask_appbuilder.models.sqla.interface import SQLAInterface

from ..clock import shown
from ..extensions import db
from ..models import Case
from ..name_grams import party_names_contain
from ..security import Scope, current_scope
from ..serving import request_id
from ..workflows import DomainError
from .widgets import LeanListWidget

log = logging.getLogger(__name__)

#: FAB's add/edit/delete call these inside `except Exception as e: flash(str(e))`.
_HOOKS = ("pre_add", "post_add", "pre_update", "post_update", "pre_delete", "post_delete")


def _refusing_only(hook):
    """A hook whose refusals (DomainError, a Chinese sentence) reach FAB's flash as they are, and whose bugs do not.

    FAB flashes `str(e)` of whatever a hook raises, so a bug showed the user Python's text ("name 'dt' is not
    defined"). Anything else is logged with the request id and becomes one Chinese sentence naming that id.
    """
    @functools.wraps(hook)
    def guarded(self, item):
        try:
            return hook(self, item)
        except Exception as error:
            if isinstance(error, DomainError):
                raise  # a refusal: FAB flashes its sentence, unchanged
            log.exception("%s.%s failed", type(self).__name__, hook.__name__)
            raise DomainError(_("The operation could not be completed because of a system error; "
                                "please tell the administrator request number %(id)s.", id=request_id())) from error
    guarded.refusing_only = True
    return guarded


def yes_no(value) -> str:
    return _("Yes") if value else _("No")


def minutes(value) -> str:
    """A list or show cell's time: Beijing time to the minute."""
    return shown(value)


def blank(value):
    return "" if value is None else value


@dataclass
class Button:
    """A toolbar button, top right of the page, named as the FAQ names it."""

    label: str
    url: str
    css: str = "btn-primary"
    method: str = "get"
    #: asked before a POST button sends (static/court/confirm.js)
    confirm: Optional[str] = None


class ScopeFilter(BaseFilter):
    """A base filter whose value is a function `query -> query`."""

    name = "scope"
    arg_name = "scope"

    def apply(self, query, func: Callable):
        return func(query)


class PartyNamesContain(BaseFilter):
    """包含 on 当事人 through the bigram index (app/name_grams.py), in the place of FAB's 包含.

    Its own `arg_name`: FAB maps a REST `opr` to one filter class for every column
    (`map_args_filter`), so reusing "ct" would hand this filter other columns' searches."""

    name = FilterContains.name
    arg_name = "party_ct"

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        # a court's list reads its own court's grams only (its base filter scopes the cases themselves)
        scope = current_scope()
        court_id = scope.court_id if not scope.is_platform else None
        return query.filter(party_names_contain(field, value, court_id))


class CaseFilterConverter(SQLAFilterConverter):
    """FAB's filters, with 当事人's 包含 served by `PartyNamesContain` at the same place in the
    list, so the list pages' `_flt_2_party_names=` links keep working."""

    def convert(self, col_name):
        """The filters of one column, made once per interface: FAB builds a `Filters` for every
        column of the model twice a request (`get_joined_filters`, the count's inner query), some
        500 filter objects for a case; they hold nothing but their column and interface."""
        made = self.datamodel.__dict__.setdefault("_filters_by_column", {})
        if col_name not in made:
            made[col_name] = self._convert(col_name)
        filters = made[col_name]
        return None if filters is None else list(filters)

    def _convert(self, col_name):
        filters = super().convert(col_name)
        if col_name == "party_names" and self.datamodel.obj is Case and filters:
            filters = [PartyNamesContain(col_name, self.datamodel) if type(f) is FilterContains else f
                       for f in filters]
        return filters


def scoped(fn: Callable[[sa.Select, Scope], sa.Select]) -> Callable:
    """Wrap `fn(query, scope)`: platform sees all, no court sees nothing."""

    def apply(query):
        scope = current_scope()
        if scope.is_platform:
            return query
        if scope.court_id is None:
            return query.filter(sa.false())
        return fn(query, scope)

    return apply


class ScopedModelView(ModelView):
    """A ModelView over court data; subclasses define `scope_query(query, scope)`."""

    page_size = 20
    list_template = "court/list.html"
    list_widget = LeanListWidget
    show_template = "court/show.html"
    #: The add button's name as the FAQ calls it (e.g. 新增调解员); None: no button.
    add_button_label = None
    #: A sentence above the list saying what the list is for; None: none.
    list_note = None

    #: how the scope reaches `scope_query`: court views admit only courts and the platform
    scope_wrapper = staticmethod(scoped)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _HOOKS:
            hook = vars(cls).get(name)
            if hook is not None and not getattr(hook, "refusing_only", False):
                setattr(cls, name, _refusing_only(hook))

    def __init__(self, **kwargs):
        self.base_filters = [["id", ScopeFilter, self.scope_wrapper(type(self).scope_query)]]
        super().__init__(**kwargs)
        # Chinese yes/no, minute-precision times and empty cells (not "None")
        # unless a view says otherwise.
        auto = {}
        for name in set(self.list_columns) | set(self.show_columns):
            if "." in name:
                continue
            if name in self.datamodel.list_columns and self.datamodel.is_boolean(name):
                auto[name] = yes_no
            elif name in self.datamodel.list_columns and self.datamodel.is_datetime(name):
                auto[name] = minutes
            else:
                auto[name] = blank
        self.formatters_columns = {**auto, **self.formatters_columns}
        self.extra_args = {"toolbar_buttons": self.toolbar_buttons, "list_note": self.list_note}
        # FAB's optional relation selects show their raw "__None" value.
        for form in (self.add_form, self.edit_form):
            for klass in form.__mro__:  # a view may subclass FAB's form (HistoricalCaseView's BackfillForm)
                for field in vars(klass).values():
                    if isinstance(field, UnboundField) and field.field_class is QuerySelectField:
                        field.kwargs["blank_text"] = _l("(none)")

    @staticmethod
    def scope_query(query, scope: Scope):
        raise AbstractScopeError

    def toolbar_buttons(self) -> list[Button]:
        """The list page's add button, and a show page's 编辑 [FAQ 2.3, 7.3(1)], for those who may."""
        if (
            self.add_button_label
            and request.endpoint == f"{self.endpoint}.list"
            and self.appbuilder.sm.has_access("can_add", self.class_permission_name)
        ):
            return [Button(str(self.add_button_label), url_for(f"{self.endpoint}.add"))]
        if (
            request.endpoint == f"{self.endpoint}.show"
            and self.appbuilder.sm.has_access("can_edit", self.class_permission_name)
        ):
            return [Button(_("Edit"), url_for(f"{self.endpoint}.edit", pk=request.view_args["pk"]))]
        return []

    def get_scoped(self, pk):
        """The row `pk` if the acting user may see it, else 404."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return item

    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name, pk):
        if name not in self.actions:
            abort(404)
        self.get_scoped(self._deserialize_pk_if_composite(pk))
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        if request.form.get("action") not in self.actions:
            abort(404)
        pks = request.form.getlist("rowid")
        if not pks:
            abort(400)
        for pk in pks:
            self.get_scoped(self._deserialize_pk_if_composite(pk))
        return super().action_post()

    @expose("/download/<string:filename>")
    def download(self, filename):
        abort(404)


class AbstractScopeError(TypeError):
    """A scoped view forgot to say how it is scoped."""


class CappedCount(int):
    """A count that stopped at the cap: pages up to the cap work, the page says "10000+"."""

    def __str__(self) -> str:
        return f"{int(self) - 1}+"


class CourtSQLAInterface(SQLAInterface):
    filter_converter_class = CaseFilterConverter


class CappedSQLAInterface(CourtSQLAInterface):
    """FAB counts every list by sub-selecting every column of every matching row
    (notes/performance.md §1); on a table of a million cases that is most of the
    page's time. Like Frappe (PR #25348) and Django's `show_full_result_count`,
    count only up to `count_cap` rows: beyond it the exact number is the
    statistics report's business, not the list's."""

    def __init__(self, obj, session=None, count_cap: int = 10_000, list_load: tuple = ()):
        super().__init__(obj, session)
        self.count_cap = count_cap
        self.list_load = list_load

    def apply_all(self, query, filters=None, order_column="", order_direction="", page=None, page_size=None,
                  select_columns=None, outer_default_load=False):
        """The list page's query, loading only what the list shows (`list_load`): a model's
        eager joins (17 LEFT JOINs for a case) made SQLite sort every joined row of the
        court before LIMIT, where 20 ids then 20 look-ups per relation is enough.

        A page of rows is chosen on ids alone, then fetched by primary key: the filter, the order
        and the OFFSET run on the index where one covers them, as the count does. Asked for whole
        rows, PostgreSQL's planner had read one heap page per case of the court (a bitmap scan,
        then a sort) for a 当事人 filter it guessed would match six rows (115 ms, not 1 ms)."""
        inner = super().apply_all(query, filters, order_column, order_direction, page, page_size,
                                  select_columns, outer_default_load)
        if page_size and not select_columns and "." not in (order_column or ""):
            ids = inner.with_entities(self.obj.id).subquery()
            inner = self.apply_order_by(query.join(ids, ids.c.id == self.obj.id), order_column, order_direction,
                                        add_pk=True)
        return inner.options(*self.list_load) if self.list_load else inner

    def query_count(self, query, filters=None, select_columns=None) -> int:
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        ids = inner.with_entities(self.obj.id).order_by(None).limit(self.count_cap + 1).subquery()
        count = self.session.scalar(sa.select(sa.func.count()).select_from(ids))
        return CappedCount(count) if count > self.count_cap else count


def interface(model, count_cap: int | None = None, list_load: tuple = ()) -> SQLAInterface:
    if count_cap is not None:
        return CappedSQLAInterface(model, db.session, count_cap, list_load)
    return CourtSQLAInterface(model, db.session)
