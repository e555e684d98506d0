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
from flask import abort, flash, g, has_request_context, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import DatePickerWidget
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from ..clock import today
from ..enums import CaseSource, CaseStatus, CaseType, CertificationStatus, PartyRole, TerminationReason
from ..extensions import db
from ..forms import CreditCode, Mobile, ResidentId
from ..models import (Case, CaseAgent, CaseParty, Court, Mediator, MediatorCourt, Organisation,
                      OrganisationCourt, Tribunal)
from ..security import current_scope
from .. import xlsx
from ..workflows import case_intake, court_todo
from .base import Button, ScopedModelView, ScopeFilter, interface, scoped
from .widgets import CachedSearchWidget
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


class UniqueIntranetNumber:
    """The form refuses a 案号 another case of the court has, keeping what was typed [FAQ 5.2(2)]."""

    def __call__(self, form, field):
        court = form.data.get("court") if "court" in form.data else None
        pk = request.view_args.get("pk") if request.view_args else None
        existing = db.session.get(Case, int(pk)) if pk else None
        probe = Case(id=existing.id if existing else None, intranet_number=field.data,
                     court_id=(court.id if court else existing.court_id if existing else current_scope().court_id))
        problem = case_intake.intranet_number_problem(probe)
        if problem:
            raise ValidationError(problem)


class _CaseListView(ScopedModelView):
    """A court's case list of one type; the detail page is /case/<id>."""

    datamodel = interface(Case, count_cap=COUNT_CAP, list_load=LIST_LOAD)
    case_type: CaseType = CaseType.PRE_LITIGATION
    source: CaseSource = CaseSource.COURT
    list_columns = LIST_COLUMNS
    show_columns = ["number", "case_type", "court", "cause", "status"]
    search_columns = SEARCH_COLUMNS
    search_widget = CachedSearchWidget  # SEARCH_COLUMNS: no relation select
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
    validators_columns = {"cause": [DataRequired()], "intranet_number": [UniqueIntranetNumber()]}

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
        case_intake.check_intranet_number(item)

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
    # [FAQ 5.2(2)] 案号: the intranet's 诉前调 number, typed in for a case entered by hand
    list_columns = LIST_COLUMNS[:1] + ["intranet_number"] + LIST_COLUMNS[1:3] + ["grassroots_unit"] + LIST_COLUMNS[3:]
    add_columns = ["court", "tribunal", "intranet_number", "cause", "claim_amount", "summary", "plan"]
    edit_columns = ["tribunal", "intranet_number", "cause", "claim_amount", "summary", "plan"]
    description_columns = {"intranet_number": _l("The intranet's pre-litigation number (诉前调字号), if the case "
                                                 "has one; without it the case has only its platform number.")}

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
    validators_columns = {"cause": [DataRequired()], "intranet_number": [DataRequired(), UniqueIntranetNumber()]}
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


def _reason(value):
    if isinstance(value, TerminationReason) or value is None:
        return value
    return TerminationReason[value] if value in TerminationReason.__members__ else None


def _own_certified(model, link):
    """A form's choice of the acting court's certified mediators or organisations."""
    return [["id", ScopeFilter, scoped(lambda q, s: q.filter(model.id.in_(
        sa.select(getattr(link, f"{model.__tablename__}_id")).where(
            link.court_id == s.court_id, link.status == CertificationStatus.CERTIFIED))))]]


class HistoricalCaseView(_CaseListView):
    """新增历史案件 with 部委信息 [FAQ 3.7, 6.6]: a concluded case, its outcome, mediator and dates."""

    route_base = "/cases/historical"
    list_title = _l("Historical cases")
    add_title = _l("Add historical case")
    source = CaseSource.HISTORICAL
    base_permissions = ["can_list", "can_add"]
    add_columns = ["court", "tribunal", "intranet_number", "cause", "claim_amount", "received_on", "outcome",
                   "termination_reason", "closed_on", "mediator", "organisation", "has_ministry", "ministry",
                   "summary", "plan"]
    label_columns = {**CASE_LABELS, "outcome": _l("Mediation outcome"), "closed_on": _l("Concluded on")}
    add_form_extra_fields = {
        "has_ministry": BooleanField(_l("Ministry information"), default=False,
                                     description=_l("Tick for 是: the case came from a ministry.")),
        "outcome": SelectField(_l("Mediation outcome"), choices=[
            ("", ""), *[(s.name, s.value.label) for s in case_intake.HISTORICAL_OUTCOMES]]),
        "closed_on": DateField(_l("Concluded on"), validators=[Optional()], widget=DatePickerWidget()),
        # optional: FAB's enum field refuses an empty choice outright (a ValueError, not a form error)
        "termination_reason": SelectField(_l("Reason for termination"), coerce=_reason, choices=[
            ("", ""), *[(r.name, r.value.label) for r in TerminationReason]]),
    }
    add_form_query_rel_fields = {
        **_CaseListView.add_form_query_rel_fields,
        "mediator": _own_certified(Mediator, MediatorCourt),
        "organisation": _own_certified(Organisation, OrganisationCourt),
    }
    description_columns = {"ministry": _l("Required when the case has ministry information."),
                           "termination_reason": _l("Required when the mediation was terminated.")}

    def _init_forms(self):
        """The form checks the whole backfill (case_intake.backfill_problems) before saving, so a refusal
        shows beside its field and keeps everything typed."""
        super()._init_forms()
        base = self.add_form

        class BackfillForm(base):
            def validate(self, extra_validators=None):
                ok = super().validate(extra_validators)
                problems = case_intake.backfill_problems(_backfill(self), current_scope().court_id)
                for name, message in problems.items():
                    field = getattr(self, name)
                    field.errors = [*field.errors, message]
                return ok and not problems

        self.add_form = BackfillForm

    @classmethod
    def scope_query(cls, query, scope):
        return visible_cases(query, scope).filter(Case.source == CaseSource.HISTORICAL)

    def pre_add(self, item):
        case_intake.prepare_historical_case(item, current_scope(), _outcome(request.form.get("outcome")),
                                            _date(request.form.get("closed_on")))


def _outcome(value):
    return CaseStatus[value] if value in CaseStatus.__members__ else None


def _date(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _backfill(form) -> case_intake.Backfill:
    data = form.data
    return case_intake.Backfill(
        received_on=data.get("received_on"), closed_on=data.get("closed_on"),
        outcome=_outcome(data.get("outcome")), termination_reason=data.get("termination_reason"),
        mediator=data.get("mediator"), organisation=data.get("organisation"),
        has_ministry=bool(data.get("has_ministry")), ministry=data.get("ministry"))


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
    DUE_WITHIN_DAYS = court_todo.DUE_WITHIN_DAYS
    #: `?due=soon` (临期: today up to the last day of the window) or `?due=overdue` (超期), as the home page counts
    DUE_FILTERS = ("soon", "overdue")

    @classmethod
    def scope_query(cls, query, scope):
        first, last = court_todo.due_window()
        query = visible_cases(query, scope).filter(Case.deadline.is_not(None), Case.deadline <= last)
        due = request.args.get("due") if has_request_context() else None
        if due == "soon":
            query = query.filter(Case.deadline >= first)
        elif due == "overdue":
            query = query.filter(Case.deadline < first)
        return query

    def toolbar_buttons(self):
        if request.endpoint != f"{self.endpoint}.list":
            return []
        current = request.args.get("due")
        return [Button(str(label), url_for(f"{self.endpoint}.list", **({"due": key} if key else {})),
                       "btn-primary" if current == key or (key is None and current not in self.DUE_FILTERS)
                       else "btn-default")
                for key, label in ((None, _l("All")), ("soon", _l("Due soon")), ("overdue", _l("Past the deadline")))]


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

    def _relabel_roles(self, form, case: Case | None):
        """立案调解 says 原告/被告, not 申请人/被申请人 (PartyRole.label_for)."""
        if case is not None and "role" in form:
            form.role.choices = [(name, PartyRole[name].label_for(case.case_type)) for name, _label in
                                 form.role.choices]

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        case_id = request.args.get("_flt_0_case", type=int)
        self._relabel_roles(form, db.session.get(Case, case_id) if case_id else None)
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        pk = request.view_args.get("pk")
        party = db.session.get(CaseParty, int(pk)) if pk else None
        self._relabel_roles(form, party.case if party else None)
        return super()._get_edit_widget(form, exclude_cols=exclude_cols, widgets=widgets)

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
        # After a refused add, FAB's populate_obj has hung the unsaved agent on party.agents: a read must not
        # autoflush it (SQLAlchemy warned "CaseAgent not in session" and dropped it anyway).
        with db.session.no_autoflush:
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
        g.removed_from_case = item.party.case_id

    def post_delete_redirect(self):
        case_id = g.get("removed_from_case")
        return (redirect(url_for("CaseDetailView.detail", pk=case_id, tab="parties")) if case_id
                else super().post_delete_redirect())

    def post_add_redirect(self):
        return redirect(url_for("CaseDetailView.detail", pk=self._party_from_args().case_id, tab="parties"))
