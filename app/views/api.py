"""REST API, read-only for now: `/api/v1/case/` lists the cases the caller may see.

Same scope as the screens (base filter `visible_cases`; a party or agent: the
cases of `portal_cases`), so a court's API client never reads another court's
cases. Browser sessions are accepted so the pages can call it; other clients
use FAB's JWT login, whose token carries the portal. Refusals answer the one
JSON error shape (app/errors.py).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask_appbuilder import ModelRestApi

from flask_babel import lazy_gettext as _l

from ..models import Case
from .base import PartyNamesContain, ScopeFilter, interface
from ..roles import Portal
from ..security import current_scope
from .cases import CASE_LABELS
from .scope import case_scoped, portal_case_id_list, visible_cases


def api_cases(query):
    """The caller's cases: the portal's own (parties and agents by their login phone), else the screens' scope."""
    scope = current_scope()
    if scope.portal in (Portal.PARTY, Portal.AGENT):
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return query.filter(sa.false())
        return query.filter(Case.id.in_(portal_case_id_list(user.username, scope.portal is Portal.AGENT)))
    return case_scoped(visible_cases)(query)


class CaseApi(ModelRestApi):
    resource_name = "case"
    datamodel = interface(Case)
    allow_browser_login = True
    base_permissions = ["can_get", "can_info"]
    base_filters = [["id", ScopeFilter, api_cases]]
    list_columns = ["id", "number", "intranet_number", "case_type", "court.name", "cause", "party_names",
                    "status", "mediator.name", "organisation.name", "received_on", "deadline"]
    show_columns = list_columns + ["summary", "plan", "claim_amount", "termination_reason", "termination_note"]
    order_columns = ["id", "received_on", "deadline"]
    # `label_columns` goes out with every answer: the screens' Chinese names, not FAB's "Court Name"
    label_columns = {**{k: v for k, v in CASE_LABELS.items()}, "id": _l("Case ID"), "court.name": _l("Court"),
                     "mediator.name": _l("Mediator"), "organisation.name": _l("Mediation organisation")}
    list_title = show_title = _l("Cases")

    def _handle_filters_args(self, rison_args):
        # a client's `{"col": "party_names", "opr": "ct"}` is FAB's plain LIKE by name
        # (`map_args_filter`); it is the bigram search of the screens (app/name_grams.py)
        for flt in rison_args.get("filters", []):
            if isinstance(flt, dict) and flt.get("col") == "party_names" and flt.get("opr") == "ct":
                flt["opr"] = PartyNamesContain.arg_name
        return super()._handle_filters_args(rison_args)
    add_title = _l("Add case")
    edit_title = _l("Edit case")
