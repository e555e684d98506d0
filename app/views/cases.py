"""调解案件管理 (court) and 我的案件 (mediator) [FAQ 3.x, 5.1; SPEC §3], parties and agents.

Who sees a case is app/views/scope.py (`visible_cases`): the lists here, the
case page, parties and agents, documents, after mediation and the API all
filter with it. The
generated add/edit/delete screens commit through FAB, once: their checks and
the derived 当事人 column are done in `pre_add`/`pre_update`/`pre_delete` by
app/workflows/case_intake.py, before that commit. The views never set a status.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import orm
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField
from wtforms.validators import DataRequired, InputRequired

from ..clock import today
from ..enums import CaseSource, CaseStatus, CaseType
from ..extensions import db
from ..forms import CreditCode, Mobile, ResidentId
from ..models import Case, CaseAgent, CaseParty, Court, Tribunal
from ..security import current_scope
from .. import xlsx
from ..workflows import case_intake
from .base import Button, ScopedModelView, ScopeFilter, interface, scoped
from .scope import agent_scope, case_scoped, current_actor, load_visible_case, party_scope, visible_cases


CASE_LABELS = {
    "number": _l("Pre-litigation mediation number"),
    "intranet_number": _l("Case number (intranet)"),
    "case_type": _l("Case type"),
    "court": _l("Court"),
    "tribunal": _l("People's tribunal"),
    "cause": _l("Cause of action"),
    "claim_amount": _l("Claim amount (yuan)"),
    "source": _l("Source"),
    "has_ministry": _l("Ministry information"),
    "ministry": _l("Ministry"),
    "simple_procedure": _l("Simple procedure"),
    "summary": _l("Dispute summary"),
    "plan": _l("Mediation plan"),
    "party_names": _l("Parties"),
    "mediator": _l("Mediator"),
    "organisation": _l("Mediation organisation"),
    "status": _l("Status"),
    "termination_reason": _l("Reason for termination"),
    "termination_note": _l("Termination note"),
    "received_on": _l("Received on"),
    "assigned_at": _l("Assigned at"),
    "deadline": _l("Deadline"),
    "extended_days": _l("Extended days"),
    "closed_at": _l("Closed at"),
    "created_at": _l("Created at"),
    "grassroots_unit": _l("From grassroots unit"),
}

#: lists count at most this many cases (see CappedSQLAInterface)
COUNT_CAP = 10_000
#: what a case list shows of a case's relations: one IN query each for the page's rows
LIST_LOAD = (
    orm.lazyload("*"),
    orm.selectinload(Case.court),
    orm.selectinload(Case.mediator),
    orm.selectinload(Case.organisation),
    orm.selectinload(Case.grassroots_unit),
)

LIST_COLUMNS = ["number", "cause", "party_names", "status", "mediator", "organisation", "received_on", "deadline"]
# No mediator filter: FAB renders the court's whole roster into every list page
# (28 ms and 70 KB for 400 mediators, benchmarks/README.md); a mediator's cases
# are one click away in 案件统计报表 (click the mediator's 收案数).
SEARCH_COLUMNS = ["status", "number", "party_names", "received_on", "cause"]


def export_cases(cases: list[Case], title: str):
    """The selected cases as an Excel sheet (app/xlsx.py: text stays text)."""
    cols = ["number", "case_type", "court", "cause", "party_names", "status", "mediator", "received_on", "deadline"]
    rows = ([getattr(case, name) for name in cols] for case in cases)
    return xlsx.response(xlsx.table(title, [str(CASE_LABELS[name]) for name in cols], rows), f"{title}.xlsx")


class _CaseListView(ScopedModelView):
    """A court's case list of one type; the detail page is /case/<id>."""

    datamodel = interface(Case, count_cap=COUNT_CAP, list_load=LIST_LOAD)
    case_type: CaseType = CaseType.PRE_LITIGATION
    source: CaseSource = CaseSource.COURT
    list_columns = LIST_COLUMNS
    show_columns = ["number", "case_type", "court", "cause", "status"]
    search_columns = SEARCH_COLUMNS
    order_columns = ["number", "received_on", "deadline", "status"]
    base_order = ("id", "desc")
    label_columns = CASE_LABELS
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_export"]
    method_permission_name = {"export_excel": "export"}
    add_form_query_rel_fields = {
        "court": [["id", ScopeFilter, scoped(lambda q, s: q.filter(Court.id == s.court_id))]],
        "tribunal": [["id", ScopeFilter, scoped(lambda q, s: q.filter(Tribunal.court_id == s.court_id))]],
    }
    edit_form_query_rel_fields = {
        "tribunal": [["id", ScopeFilter, scoped(lambda q, s: q.filter(Tribunal.court_id == s.court_id))]],
    }
    validators_columns = {"cause": [DataRequired()]}

    @classmethod
    def scope_query(cls, query, scope):
        return visible_cases(query, scope).filter(Case.case_type == cls.case_type)

    @expose("/show/<pk>")
    @has_access
    def show(self, pk):
        self.get_scoped(pk)
        return redirect(url_for("CaseDetailView.detail", pk=pk))

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        problem = case_intake.edit_problem(self.get_scoped(pk))
        if problem:
            flash(problem, "danger")
            return redirect(url_for("CaseDetailView.detail", pk=pk))
        return super().edit(pk)

    def pre_add(self, item):
        case_intake.prepare_new_case(item, current_scope(), self.case_type, self.source)

    def pre_update(self, item):
        case_intake.check_editable(item)
        case_intake.check_case_in_scope(item, current_scope())

    def post_add_redirect(self):
        return redirect(url_for("CaseDetailView.detail", pk=self._last_added)) if getattr(
            self, "_last_added", None) else super().post_add_redirect()

    def post_add(self, item):
        self._last_added = item.id

    def post_edit_redirect(self):
        pk = request.view_args.get("pk")
        return redirect(url_for("CaseDetailView.detail", pk=pk))

    @action("export_excel", _l("Export to Excel"), None, "fa-file-excel-o", single=False)
    def export_excel(self, items):
        return export_cases(items if isinstance(items, list) else [items], str(self.list_title))


class PreLitigationCaseView(_CaseListView):
    route_base = "/cases/pre-litigation"
    list_title = _l("Pre-litigation delegated mediation")
    add_title = _l("Add pre-litigation case")
    edit_title = _l("Edit case information")
    add_button_label = _l("Add case")
    case_type = CaseType.PRE_LITIGATION
    list_columns = LIST_COLUMNS[:3] + ["grassroots_unit"] + LIST_COLUMNS[3:]
    add_columns = ["court", "tribunal", "cause", "claim_amount", "summary", "plan"]
    edit_columns = ["tribunal", "cause", "claim_amount", "summary", "plan"]

    def toolbar_buttons(self):
        """[FAQ 3.4] 案件管理 › the 调解结束 cases › 申请出具调解书: those whose parties applied for a 调解书."""
        buttons = super().toolbar_buttons()
        if request.endpoint != f"{self.endpoint}.list":
            return buttons
        ended = CaseStatus.ENDED.name
        if request.args.get("_flt_0_status") != ended:
            buttons.append(Button(CaseStatus.ENDED.label, url_for(f"{self.endpoint}.list", _flt_0_status=ended),
                                  "btn-default"))
        elif self.appbuilder.sm.has_access("can_list", "MediationDocumentView"):
            buttons.append(Button(str(_l("Applications for a mediation document")),
                                  url_for("MediationDocumentView.list", _flt_0_status="PENDING"), "btn-default"))
        return buttons


class InLitigationCaseView(_CaseListView):
    route_base = "/cases/in-litigation"
    list_title = _l("In-litigation mediation")
    add_title = _l("Add in-litigation case")
    edit_title = _l("Edit case information")
    add_button_label = _l("Add case")
    case_type = CaseType.IN_LITIGATION
    list_columns = ["number", "intranet_number"] + LIST_COLUMNS[1:]
    add_columns = ["court", "tribunal", "intranet_number", "cause", "claim_amount", "simple_procedure",
                   "summary", "plan"]
    edit_columns = add_columns[1:]
    validators_columns = {"cause": [DataRequired()], "intranet_number": [DataRequired()]}
    add_form_extra_fields = {"simple_procedure": BooleanField(_l("Simple procedure"), default=False)}
    edit_form_extra_fields = add_form_extra_fields


class InternetCaseView(_CaseListView):
    """Internet cases reach the court when the mediator accepts and picks it [FAQ 5.1]."""

    route_base = "/cases/internet"
    list_title = _l("Internet mediation")
    edit_title = _l("Edit case information")
    case_type = CaseType.INTERNET
    base_permissions = ["can_list", "can_show", "can_edit", "can_export"]
    edit_columns = ["cause", "claim_amount", "summary", "plan"]


class HistoricalCaseView(_CaseListView):
    """新增历史案件 with 部委信息 [FAQ 3.7, 6.6]."""

    route_base = "/cases/historical"
    list_title = _l("Historical cases")
    add_title = _l("Add historical case")
    source = CaseSource.HISTORICAL
    base_permissions = ["can_list", "can_add"]
    add_columns = ["court", "tribunal", "intranet_number", "cause", "claim_amount", "received_on", "has_ministry",
                   "ministry", "summary", "plan"]
    add_form_extra_fields = {
        "has_ministry": BooleanField(_l("Ministry information: yes"), default=False),
    }
    description_columns = {"ministry": _l("Required when the case has ministry information.")}

    @classmethod
    def scope_query(cls, query, scope):
        return visible_cases(query, scope).filter(Case.source == CaseSource.HISTORICAL)

    def pre_add(self, item):
        case_intake.prepare_new_case(item, current_scope(), CaseType.PRE_LITIGATION, CaseSource.HISTORICAL)


class _EveryVisibleCase(_CaseListView):
    """Every case the acting identity sees, of any type (mediators and ministries pass too)."""

    scope_wrapper = staticmethod(case_scoped)

    @classmethod
    def scope_query(cls, query, scope):
        return visible_cases(query, scope)


class MyCaseView(_EveryVisibleCase):
    """调解员端 › 我的案件: cases assigned to me or to my organisation."""

    route_base = "/my/cases"
    list_title = _l("My cases")
    base_permissions = ["can_list", "can_show", "can_export"]
    list_columns = ["number", "case_type", "court", "cause", "party_names", "status", "deadline"]


class MinistryCaseView(_EveryVisibleCase):
    """部委端 › 总对总案件: cases assigned to the ministry's organisations (and its historical cases)."""

    route_base = "/ministry/cases"
    list_title = _l("Ministry cases")
    base_permissions = ["can_list", "can_show"]
    list_columns = ["number", "court", "cause", "party_names", "organisation", "status", "deadline"]


class DeadlineView(_CaseListView):
    """临期/超期案件: due within 2 days or overdue (SPEC §8)."""

    route_base = "/cases/deadlines"
    list_title = _l("Cases due or overdue")
    base_permissions = ["can_list", "can_show"]
    list_columns = ["number", "case_type", "cause", "party_names", "status", "mediator", "deadline"]
    base_order = ("deadline", "asc")
    scope_wrapper = staticmethod(case_scoped)
    DUE_WITHIN_DAYS = 2

    @classmethod
    def scope_query(cls, query, scope):
        soon = today() + dt.timedelta(days=cls.DUE_WITHIN_DAYS)
        return visible_cases(query, scope).filter(Case.deadline.is_not(None), Case.deadline <= soon)


# --- parties and agents -------------------------------------------------------

class _CaseChildView(ScopedModelView):
    """Parties and agents are edited from the case page (tab 当事人 › 编辑) [FAQ 3.8]."""

    scope_wrapper = staticmethod(case_scoped)
    base_permissions = ["can_add", "can_edit", "can_delete"]
    list_template = "court/list.html"

    def case_of(self, item) -> Case:
        return item.case

    def _back(self, case: Case):
        return redirect(url_for("CaseDetailView.detail", pk=case.id, tab="parties"))

    def _refused(self, case: Case, problem: str | None):
        """The case page again with the reason, when the form may not even be shown."""
        if problem is None:
            return None
        flash(problem, "danger")
        return self._back(case)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        case = self.case_of(self.get_scoped(pk))
        return self._refused(case, case_intake.party_edit_problem(case, current_actor())) or super().edit(pk)

    def post_edit_redirect(self):
        return self._back(self.case_of(self.get_scoped(request.view_args["pk"])))

    def post_delete_redirect(self):
        return redirect(request.referrer or url_for("MyCaseView.list"))


class CasePartyView(_CaseChildView):
    route_base = "/case-parties"
    datamodel = interface(CaseParty)
    add_title = _l("Add party")
    edit_title = _l("Edit party")
    add_columns = ["case", "role", "kind", "name", "phone", "id_number", "credit_code", "legal_representative",
                   "address"]
    edit_columns = add_columns[1:]
    list_columns = ["name", "role", "phone"]
    label_columns = {
        "case": _l("Case"),
        "role": _l("Role"),
        "kind": _l("Type"),
        "name": _l("Name"),
        "phone": _l("Mobile number"),
        "id_number": _l("ID number"),
        "credit_code": _l("Unified social credit code"),
        "legal_representative": _l("Legal representative"),
        "address": _l("Address"),
    }
    description_columns = {
        "phone": _l("Required before the case can be assigned [FAQ 3.1]. If unknown, enter an 11-digit "
                    "placeholder starting with 1; the mediator corrects it later."),
        "id_number": _l("Natural persons: required before the case can be closed."),
        "credit_code": _l("Organisations: required before the case can be closed."),
    }
    # The phone may be saved empty: assignment refuses, naming the party [FAQ 3.1].
    validators_columns = {
        "phone": [Mobile()],
        "id_number": [ResidentId()],
        "credit_code": [CreditCode()],
    }
    add_form_query_rel_fields = {"case": [["id", ScopeFilter, case_scoped(visible_cases)]]}

    @staticmethod
    def scope_query(query, scope):
        return party_scope(query, scope)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        case_id = request.args.get("_flt_0_case", type=int)
        if case_id is None:
            abort(404)
        case = load_visible_case(case_id)
        return self._refused(case, case_intake.party_edit_problem(case, current_actor())) or super().add()

    def pre_add(self, item):
        case_intake.save_party(item, current_actor())

    def pre_update(self, item):
        case_intake.save_party(item, current_actor())

    def pre_delete(self, item):
        case_intake.remove_party(item, current_actor())

    def post_add_redirect(self):
        return redirect(url_for("CaseDetailView.detail", pk=request.args.get("_flt_0_case", type=int),
                                tab="parties"))


class CaseAgentView(_CaseChildView):
    route_base = "/case-agents"
    datamodel = interface(CaseAgent)
    add_title = _l("Add agent")
    edit_title = _l("Edit agent")
    add_columns = ["party", "agent_type", "name", "phone", "id_number", "law_firm"]
    edit_columns = add_columns[1:]
    list_columns = ["name", "agent_type", "phone"]
    label_columns = {
        "party": _l("Party"),
        "agent_type": _l("Agent type"),
        "name": _l("Name"),
        "phone": _l("Mobile number"),
        "id_number": _l("ID number"),
        "law_firm": _l("Law firm / employer"),
    }
    description_columns = {
        "agent_type": _l("Only a specially authorised agent may sign the agreement for the party."),
    }
    validators_columns = {"phone": [InputRequired(), Mobile()], "id_number": [ResidentId()]}
    add_form_query_rel_fields = {"party": [["id", ScopeFilter, case_scoped(party_scope)]]}

    @staticmethod
    def scope_query(query, scope):
        return agent_scope(query, scope)

    def case_of(self, item):
        return item.party.case

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        party = self._party_from_args()
        return self._refused(party.case, case_intake.agent_problem(party, current_actor())) or super().add()

    def _party_from_args(self) -> CaseParty:
        party_id = request.args.get("_flt_0_party", type=int)
        query = sa.select(CaseParty).where(CaseParty.id == party_id)
        scope = current_scope()
        if not scope.is_platform:
            query = party_scope(query, scope)
        party = db.session.scalar(query) if party_id else None
        if party is None:
            abort(404)
        return party

    def pre_add(self, item):
        case_intake.save_agent(item, current_actor(), new=True)

    def pre_update(self, item):
        case_intake.save_agent(item, current_actor())

    def pre_delete(self, item):
        case_intake.remove_agent(item, current_actor())

    def post_add_redirect(self):
        return redirect(url_for("CaseDetailView.detail", pk=self._party_from_args().case_id, tab="parties"))
