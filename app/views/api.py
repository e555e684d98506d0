"""REST API, read-only for now: `/api/v1/case/` lists the cases the caller may see.

Same scope as the screens (base filter `visible_cases`), so a court's API
client never reads another court's cases. Browser sessions are accepted so
the pages can call it; other clients use FAB's JWT login.
"""
from __future__ import annotations

from flask_appbuilder import ModelRestApi

from flask_babel import lazy_gettext as _l

from ..models import Case
from .base import ScopeFilter, interface
from .cases import CASE_LABELS
from .scope import case_scoped, visible_cases


class CaseApi(ModelRestApi):
    resource_name = "case"
    datamodel = interface(Case)
    allow_browser_login = True
    base_permissions = ["can_get", "can_info"]
    base_filters = [["id", ScopeFilter, case_scoped(visible_cases)]]
    list_columns = ["id", "number", "intranet_number", "case_type", "court.name", "cause", "party_names",
                    "status", "mediator.name", "organisation.name", "received_on", "deadline"]
    show_columns = list_columns + ["summary", "plan", "claim_amount", "termination_reason", "termination_note"]
    order_columns = ["id", "received_on", "deadline"]
    # `label_columns` goes out with every answer: the screens' Chinese names, not FAB's "Court Name"
    label_columns = {**{k: v for k, v in CASE_LABELS.items()}, "id": _l("Case ID"), "court.name": _l("Court"),
                     "mediator.name": _l("Mediator"), "organisation.name": _l("Mediation organisation")}
    list_title = show_title = _l("Cases")
    add_title = _l("Add case")
    edit_title = _l("Edit case")
