"""After mediation screens [SPEC §3.3; FAQ 3.4–3.6, 3.15, 3.16].

- Court: 在线司法确认 › 司法确认管理, 申请出具调解书, 在线立案 › 普通民事案件 › 待立案
  (lists of the court's applications), 临期/超期申请, and the application page
  with 受理 / 编写调解书 / 立案审查 (→ 内网办案系统) and 不予受理.
- Mediator: applies on a party's behalf from the case page [FAQ 3.15]; the
  court turns a failed case into a filing (转在线立案) from the same page.
- Party portal: 申请司法确认, 申请出具调解书, 同意 (the joint application),
  更多 › 在线立案, and the results.
- 模拟内网办案系统: the local stand-in for the intranet, for court staff.

Every state change is a call into app/workflows/after_mediation.py through
the request edge (`@edge`); what a page offers comes from its `available_*`.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..enums import ApplicationKind, ApplicationStatus, HandlingPlatform
from ..extensions import db
from ..models import Court, CourtApplication, SimulatedIntranetInbox

from ..security import current_scope
from ..serving import client_ip
from ..workflows import Conflict, after_mediation
from .base import Button, ScopedModelView, interface, minutes, scoped
from .edge import edge
from .records import topic_label
from . import internet as internet_views
from . import pushes as push_views
from .scope import current_actor, load_portal_case, load_visible_case

K = ApplicationKind
A = ApplicationStatus

LABELS = {
    "number": _l("Judicial confirmation number"),
    "case": _l("Case"),
    "kind": _l("Type"),
    "applicant_name": _l("Applicant"),
    "status": _l("Status"),
    "applied_at": _l("Applied at"),
    "accept_deadline": _l("Decide on acceptance by"),
    "ruling_deadline": _l("Rule by"),
    "decided_at": _l("Result received at"),
    "result_number": _l("Number returned by the intranet"),
    "handling_platform": _l("Handling platform"),
}


def deadline_note(application) -> str:
    days = after_mediation.deadline_days(application)
    if days is None:
        return ""
    if days < 0:
        return _("overdue by %(n)d days", n=-days)
    return _("%(n)d days left", n=days)


def _status_tabs(view, statuses):
    if request.endpoint != f"{view.endpoint}.list":
        return []
    current = request.args.get("_flt_0_status")
    buttons = [Button(_("All"), url_for(f"{view.endpoint}.list"), "btn-primary" if not current else "btn-default")]
    for status in statuses:
        buttons.append(Button(status.label_for(view.kind) if view.kind else status.label,
                              url_for(f"{view.endpoint}.list", _flt_0_status=status.name),
                              "btn-primary" if current == status.name else "btn-default"))
    return buttons


class _ApplicationListView(ScopedModelView):
    """A court's applications of one kind; the page of one is /application/<id>."""

    datamodel = interface(CourtApplication)
    kind: K | None = None
    tabs = (A.PENDING, A.ACCEPTED, A.REJECTED)
    base_permissions = ["can_list", "can_show"]
    list_columns = ["case", "applicant_name", "status", "applied_at", "accept_deadline", "ruling_deadline",
                    "result_number"]
    search_columns = ["status", "applicant_name", "applied_at"]
    order_columns = ["applied_at", "accept_deadline", "ruling_deadline"]
    base_order = ("id", "desc")
    label_columns = LABELS
    formatters_columns = {"applied_at": minutes}

    def __init__(self, **kwargs):
        kind = self.kind

        def wrapper(fn):
            inner = scoped(fn)
            return (lambda q: inner(q).filter(CourtApplication.kind == kind)) if kind else inner

        self.scope_wrapper = wrapper
        super().__init__(**kwargs)
        if kind is not None:
            self.formatters_columns = {**self.formatters_columns, "status": lambda s: A(s).label_for(kind)}

    @staticmethod
    def scope_query(query, scope):
        return query.filter(CourtApplication.court_id == scope.court_id)

    def toolbar_buttons(self):
        return _status_tabs(self, self.tabs)

    @expose("/show/<pk>")
    @has_access
    def show(self, pk):
        self.get_scoped(pk)
        return redirect(url_for("ApplicationDetailView.detail", pk=pk))


class JudicialConfirmationView(_ApplicationListView):
    """在线司法确认 › 司法确认管理 [FAQ 3.6]."""

    route_base = "/judicial-confirmations"
    list_title = _l("Judicial confirmation management")
    kind = K.JUDICIAL_CONFIRMATION
    tabs = (A.PENDING, A.ACCEPTED, A.CONFIRMED, A.REJECTED)
    list_columns = ["number"] + _ApplicationListView.list_columns
    search_columns = ["status", "number", "applicant_name", "applied_at"]


class MediationDocumentView(_ApplicationListView):
    """调解结束 cases with 申请出具调解书 [FAQ 3.4]."""

    route_base = "/mediation-documents"
    list_title = _l("Applications for a mediation document")
    kind = K.MEDIATION_DOCUMENT
    tabs = (A.PENDING, A.ACCEPTED, A.ISSUED, A.REJECTED)


class FilingView(_ApplicationListView):
    """在线立案 › 普通民事案件 › 待立案 [FAQ 3.5]."""

    route_base = "/filings"
    list_title = _l("Ordinary civil cases")
    kind = K.FILING
    tabs = (A.PENDING, A.ACCEPTED, A.FILED, A.REJECTED)


class ApplicationDeadlineView(_ApplicationListView):
    """临期/超期申请: acceptance or ruling due within 2 days or overdue (SPEC §8)."""

    route_base = "/applications/deadlines"
    list_title = _l("Applications due or overdue")
    list_columns = ["case", "kind", "applicant_name", "status", "accept_deadline", "ruling_deadline"]
    base_order = ("id", "asc")

    @staticmethod
    def scope_query(query, scope):
        return query.filter(CourtApplication.court_id == scope.court_id, after_mediation.due_filter())

    def toolbar_buttons(self):
        return []


def load_visible_application(pk: int) -> CourtApplication:
    """The application if the acting user sees its case (court, mediator, platform), else 404."""
    application = db.session.get(CourtApplication, pk)
    if application is None:
        abort(404)
    load_visible_case(application.case_id)
    return application


def _kind(code: str) -> ApplicationKind:
    if code not in K.__members__:
        abort(404)
    return K[code]


def _platform(code: str):
    return HandlingPlatform[code] if code in HandlingPlatform.__members__ else None


class ApplicationDetailView(BaseView):
    """One application (court and mediator), and the court's and mediator's application forms."""

    route_base = "/application"
    default_view = "detail"

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk):
        application = load_visible_application(pk)
        days = after_mediation.deadline_days(application)
        return self.render_template(
            "court/application_detail.html", title=f"{application.kind.label} · {application.case}",
            application=application, case=application.case, labels=LABELS,
            steps=after_mediation.available_events(application, current_actor()),
            deadline_note=deadline_note(application), overdue=days is not None and days < 0,
            message=application.outbox_message, push_rows=push_views.application_rows(application, current_actor()),
            numbered=after_mediation.has_own_number(application),
            consents=after_mediation.consent_rows(application),
            via_label=after_mediation.VIA_LABELS.get(application.applied_via, ""),
            role_label=lambda p: p.role.label_for(application.case.case_type))

    def _offered_step(self, application, event):
        return next((s for s in after_mediation.available_events(application, current_actor()) if s.event == event),
                    None)

    @expose("/<int:pk>/do/<event>", methods=["GET"])
    @has_access
    @permission_name("decide")
    def step(self, pk, event):
        application = load_visible_application(pk)
        step = self._offered_step(application, event)
        if step is None:
            flash(_("This operation is not available for the application now."), "danger")
            return redirect(url_for(".detail", pk=pk))
        return self._step_form(application, step)

    @expose("/<int:pk>/do/<event>", methods=["POST"])
    @has_access
    @permission_name("decide")
    @edge(refused="_step_refused")
    def step_post(self, pk, event):
        application = load_visible_application(pk)
        step = self._offered_step(application, event)
        if step is None:
            flash(_("This operation is not available for the application now."), "danger")
            return redirect(url_for(".detail", pk=pk))
        after_mediation.apply(application, event, current_actor(), request.form.get("version", type=int),
                              handling_platform=_platform(request.form.get("handling_platform", "")),
                              reason=request.form.get("reason", ""))
        if event == "accept":
            flash(_("%(step)s: handed to the intranet case-handling system.", step=step.label), "success")
        else:
            flash(_("%(step)s: done.", step=step.label), "success")
        return redirect(url_for(".detail", pk=pk))

    def _step_refused(self, pk, event, exc):
        application = load_visible_application(pk)
        step = self._offered_step(application, event)
        if isinstance(exc, Conflict) or step is None:
            return redirect(url_for(".detail", pk=pk))
        return self._step_form(application, step)

    def _step_form(self, application, step):
        return self.render_template("court/application_step.html", title=step.label, step=step,
                                    application=application, platforms=list(HandlingPlatform), form=request.form)

    def _offer(self, case_id, kind):
        """The court turns a failed case into a filing [FAQ 3.5]; the mediator applies for a party [FAQ 3.15]."""
        case = load_visible_case(case_id)
        offer = after_mediation.offer_for(case, kind, current_actor())
        if offer is None:
            abort(403)
        return case, offer

    @expose("/case/<int:case_id>/new/<kind>", methods=["GET"])
    @has_access
    @permission_name("apply")
    def new(self, case_id, kind):
        case, offer = self._offer(case_id, _kind(kind))
        return self._new_form(case, offer)

    @expose("/case/<int:case_id>/new/<kind>", methods=["POST"])
    @has_access
    @permission_name("apply")
    @edge(refused="_new_refused")
    def new_post(self, case_id, kind):
        kind = _kind(kind)
        case = self._offer(case_id, kind)[0]
        created = after_mediation.apply_for(case, kind, current_actor(), request.form.get("party_id", type=int),
                                            request.form.get("claims"), request.form.get("facts"), client_ip())
        flash(_("%(kind)s: application submitted.", kind=kind.label), "success")
        return redirect(url_for(".detail", pk=created.id))

    def _new_refused(self, case_id, kind, exc):
        case, offer = self._offer(case_id, _kind(kind))
        return self._new_form(case, offer)

    def _new_form(self, case, offer):
        return self.render_template("court/application_new.html", title=offer.label, case=case, offer=offer,
                                    form=request.form, parties=case.parties, blank_choice=True,
                                    back=url_for("CaseDetailView.detail", pk=case.id))


# --- the party portal ---------------------------------------------------------------

class PortalApplicationView(BaseView):
    """当事人端 › 案件 › 更多: 司法确认, 调解书, 同意, 在线立案 and their results."""

    route_base = "/portal/after"

    def _case(self, pk):
        return load_portal_case(pk)

    @expose("/case/<int:pk>")
    @has_access
    @permission_name("view")
    def case(self, pk):
        case = self._case(pk)
        actor = current_actor()
        return self.render_template("court/portal_after.html", title=_("More"), case=case,
                                    applications=after_mediation.applications_of(case),
                                    offers=after_mediation.available_applications(case, actor),
                                    to_consent=after_mediation.awaiting_consent(case, actor),
                                    window_ends=after_mediation.confirmation_window_ends(case),
                                    internet_section=internet_views.case_section(case, actor))

    @expose("/case/<int:pk>/apply/<kind>", methods=["GET"])
    @has_access
    @permission_name("apply")
    def apply(self, pk, kind):
        return self._apply_form(self._case(pk), _kind(kind))

    @expose("/case/<int:pk>/apply/<kind>", methods=["POST"])
    @has_access
    @permission_name("apply")
    @edge(refused="_apply_refused")
    def apply_post(self, pk, kind):
        kind = _kind(kind)
        case = self._case(pk)
        after_mediation.apply_for(case, kind, current_actor(), request.form.get("party_id", type=int),
                                  request.form.get("claims"), request.form.get("facts"), client_ip())
        flash(_("%(kind)s: application submitted.", kind=kind.label), "success")
        return redirect(url_for(".case", pk=pk))

    def _apply_refused(self, pk, kind, exc):
        case = self._case(pk)
        if after_mediation.offer_for(case, _kind(kind), current_actor()) is None:
            return redirect(url_for(".case", pk=pk))
        return self._apply_form(case, _kind(kind))

    def _apply_form(self, case, kind):
        actor = current_actor()
        offer = after_mediation.offer_for(case, kind, actor)
        if offer is None:
            abort(403)
        return self.render_template("court/application_new.html", title=offer.label, case=case, offer=offer,
                                    form=request.form, blank_choice=False,
                                    parties=[x.party for x in after_mediation.acting_for(case, actor)],
                                    back=url_for(".case", pk=case.id))

    @expose("/application/<int:app_id>/consent", methods=["POST"])
    @has_access
    @permission_name("apply")
    @edge(refused="_consent_refused")
    def consent(self, app_id):
        case = self._case(self._application(app_id).case_id)
        after_mediation.consent(self._application(app_id), current_actor(), client_ip())
        flash(_("You consented to the joint application."), "success")
        return redirect(url_for(".case", pk=case.id))

    def _consent_refused(self, app_id, exc):
        return redirect(url_for(".case", pk=self._application(app_id).case_id))

    @staticmethod
    def _application(app_id) -> CourtApplication:
        application = db.session.get(CourtApplication, app_id)
        if application is None:
            abort(404)
        return application


# --- the simulated intranet -------------------------------------------------------------

class SimulatedIntranetView(BaseView):
    """模拟内网办案系统 (COURT_INTRANET = "local"): what arrived for the court, and its results."""

    route_base = "/simulated-intranet"
    default_view = "index"

    def _enabled(self):
        if current_app.config.get("COURT_INTRANET", "local") != "local":
            abort(404)

    def _rows(self):
        scope = current_scope()
        query = sa.select(SimulatedIntranetInbox).order_by(SimulatedIntranetInbox.id.desc())
        if not scope.is_platform:
            if scope.court_id is None:
                abort(403)
            code = db.session.scalar(sa.select(Court.code).where(Court.id == scope.court_id))
            query = query.where(SimulatedIntranetInbox.court_code == code)
        return query

    @expose("/")
    @has_access
    def index(self):
        self._enabled()
        rows = db.session.scalars(self._rows().limit(200)).all()
        return self.render_template("court/simulated_intranet.html", title=_("Simulated intranet case-handling "
                                                                              "system"), rows=rows,
                                    result_choices=after_mediation.result_choices,
                                    result_label=after_mediation.result_label, topic_label=topic_label)

    @expose("/<int:pk>/result", methods=["POST"])
    @has_access
    @permission_name("result")
    @edge(refused="_result_refused")
    def result(self, pk):
        """Return a result: the same code path as the REST API."""
        self._enabled()
        row = db.session.scalar(self._rows().where(SimulatedIntranetInbox.id == pk))
        if row is None:
            abort(404)
        scope = current_scope()
        answer = after_mediation.return_simulated_result(
            row, request.form.get("result", ""), request.form.get("number", "").strip() or None,
            request.form.get("reason", "").strip() or None, None if scope.is_platform else scope.court_id)
        if answer["status"] == "duplicate":
            flash(_("This result was returned before; nothing changed."), "warning")
        else:
            flash(_("Result returned to the mediation platform."), "success")
        return redirect(url_for(".index"))

    def _result_refused(self, pk, exc):
        return redirect(url_for(".index"))
