"""After mediation screens [SPEC §3.3; FAQ 3.4–3.6, 3.15, 3.16].

- Court: 在线司法确认 › 司法确认管理, 申请出具调解书, 在线立案 › 普通民事案件 › 待立案
  (lists of the court's applications), 临期/超期申请, and the application page
  with 受理 / 编写调解书 / 立案审查 (→ 内网办案系统) and 不予受理.
- Mediator: applies on a party's behalf from the case page [FAQ 3.15]; the
  court turns a failed case into a filing (转在线立案) from the same page.
- Party portal: 申请司法确认, 申请出具调解书, 同意 (the joint application),
  更多 › 在线立案, and the results.
- 模拟内网办案系统: the local stand-in for the intranet, for court staff.

Every state change is a call into app/workflows/after_mediation.py.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..enums import ApplicationKind, ApplicationStatus, HandlingPlatform
from ..extensions import db
from ..models import Case, Court, CourtApplication, SimulatedIntranetInbox, utcnow
from ..roles import Portal
from ..security import active_portal, current_scope
from ..workflows import after_mediation
from ..workflows.after_mediation import Applicant
from ..workflows.agreements import signer_identities
from .base import Button, ScopedModelView, interface, minutes, run_step, scoped
from .scope import current_actor, load_visible_case, portal_cases

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


def _client_ip():
    return request.headers.get("X-Forwarded-For", request.remote_addr or "").split(",")[0].strip() or None


def deadline_note(application) -> str:
    day = after_mediation.current_deadline(application)
    if day is None:
        return ""
    days = (day - dt.date.today()).days
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


class ApplicationDetailView(BaseView):
    """One application (court and mediator), and the court's and mediator's application forms."""

    route_base = "/application"
    default_view = "detail"

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk):
        application = load_visible_application(pk)
        actor = current_actor()
        return self.render_template(
            "court/application_detail.html", title=f"{application.kind.label} · {application.case}",
            application=application, case=application.case, labels=LABELS,
            steps=after_mediation.available_steps(application, actor), deadline_note=deadline_note(application),
            overdue=(after_mediation.current_deadline(application) or dt.date.max) < dt.date.today(),
            message=application.outbox_message,
            consented={c.party_id: c for c in application.consents})

    @expose("/<int:pk>/do/<event>", methods=["GET", "POST"])
    @has_access
    @permission_name("decide")
    def step(self, pk, event):
        application = load_visible_application(pk)
        actor = current_actor()
        step = next((s for s in after_mediation.available_steps(application, actor) if s.event == event), None)
        if step is None:
            flash(_("This operation is not available for the application now."), "danger")
            return redirect(url_for(".detail", pk=pk))
        if request.method == "POST":
            version = request.form.get("version", type=int)
            if event == "accept":
                code = request.form.get("handling_platform", "")
                platform = HandlingPlatform[code] if code in HandlingPlatform.__members__ else None
                done = run_step(lambda: after_mediation.accept(application, actor, platform, version),
                                success=_("%(step)s: handed to the intranet case-handling system.",
                                          step=str(step.label)))
            else:
                done = run_step(lambda: after_mediation.refuse(application, actor, request.form.get("reason", ""),
                                                               version),
                                success=_("%(step)s: done.", step=str(step.label)))
            if done is not None:
                return redirect(url_for(".detail", pk=pk))
            application = load_visible_application(pk)
        return self.render_template("court/application_step.html", title=str(step.label), step=step,
                                    application=application, platforms=list(HandlingPlatform), form=request.form)

    @expose("/case/<int:case_id>/new/<kind>", methods=["GET", "POST"])
    @has_access
    @permission_name("apply")
    def new(self, case_id, kind):
        """The mediator applies for a party [FAQ 3.15]; the court turns a failed case into a filing [FAQ 3.5]."""
        if kind not in K.__members__:
            abort(404)
        kind = K[kind]
        case = load_visible_case(case_id)
        actor = current_actor()
        via = "court" if actor.is_court_staff_of(case) else "mediator" if actor.is_mediator_of(case) else None
        if via is None or (via == "court") != (kind is K.FILING):
            abort(403)
        if request.method == "POST":
            party_id = request.form.get("party_id", type=int)
            party = next((p for p in case.parties if p.id == party_id), None)
            who = Applicant(via, g.user.id, party, None, _client_ip())
            created = run_step(lambda: after_mediation.apply(case, kind, who, actor, request.form.get("claims"),
                                                             request.form.get("facts")),
                               success=_("%(kind)s: application submitted.", kind=kind.label))
            if created is not None:
                return redirect(url_for(".detail", pk=created.id))
            case = load_visible_case(case_id)
        return self.render_template("court/application_new.html", title=new_label(kind, via), case=case,
                                    kind=kind, via=via, form=request.form,
                                    back=url_for("CaseDetailView.detail", pk=case.id))


def new_label(kind: K, via: str) -> str:
    if via == "court":
        return _("Transfer to online filing")
    if via == "mediator":
        return _("Apply for %(kind)s on a party's behalf", kind=kind.label)
    if kind is K.FILING:
        return _("Online filing")
    return _("Apply for %(kind)s", kind=kind.label)


def case_actions(case: Case, actor) -> list[Button]:
    """The after-mediation buttons of the case page for the court or the mediator."""
    buttons = []
    if actor.is_mediator_of(case):
        for kind in (K.JUDICIAL_CONFIRMATION, K.MEDIATION_DOCUMENT):
            if after_mediation.offered(case, kind) and after_mediation.why_not(case, kind) is None:
                buttons.append(Button(new_label(kind, "mediator"),
                                      url_for("ApplicationDetailView.new", case_id=case.id, kind=kind.name),
                                      "btn-default"))
    if (actor.is_court_staff_of(case) and after_mediation.offered(case, K.FILING)
            and after_mediation.why_not(case, K.FILING) is None):
        buttons.append(Button(new_label(K.FILING, "court"),
                              url_for("ApplicationDetailView.new", case_id=case.id, kind=K.FILING.name),
                              "btn-default"))
    return buttons


# --- the party portal ---------------------------------------------------------------

def _portal_identity() -> tuple[str, bool]:
    portal = active_portal()
    if portal not in (Portal.PARTY, Portal.AGENT):
        abort(403)
    return g.user.username, portal is Portal.AGENT


class PortalApplicationView(BaseView):
    """当事人端 › 案件 › 更多: 司法确认, 调解书, 同意, 在线立案 and their results."""

    route_base = "/portal/after"

    def _case(self, pk):
        phone, as_agent = _portal_identity()
        case = next((c for c in portal_cases(phone, as_agent) if c.id == pk), None)
        if case is None:
            abort(404)
        identities = signer_identities(case, phone, as_agent)
        return case, identities, as_agent

    def _who(self, identities, as_agent, party_id=None) -> Applicant:
        chosen = [(p, a) for p, a in identities if party_id is None or p.id == party_id]
        party, agent = chosen[0] if chosen else (None, None)
        return Applicant("agent" if as_agent else "party", g.user.id, party, agent, _client_ip())

    @expose("/case/<int:pk>")
    @has_access
    @permission_name("view")
    def case(self, pk):
        case, identities, as_agent = self._case(pk)
        my_parties = {p.id for p, _a in identities}
        applications = after_mediation.applications_of(case)
        offers = [(k, new_label(k, "party"), after_mediation.why_not(case, k)) for k in K
                  if after_mediation.offered(case, k)
                  and (k is not K.FILING or any(p.role.name == "APPLICANT" for p, _a in identities))]
        to_consent = [a for a in applications if a.status is A.AWAITING_CONSENT
                      and any(pid not in {c.party_id for c in a.consents} for pid in my_parties)]
        return self.render_template("court/portal_after.html", title=_("More"), case=case,
                                    applications=applications, offers=offers, to_consent=to_consent,
                                    window_ends=after_mediation.confirmation_window_ends(case))

    @expose("/case/<int:pk>/apply/<kind>", methods=["GET", "POST"])
    @has_access
    @permission_name("apply")
    def apply(self, pk, kind):
        if kind not in K.__members__:
            abort(404)
        kind = K[kind]
        case, identities, as_agent = self._case(pk)
        if request.method == "POST":
            who = self._who(identities, as_agent, request.form.get("party_id", type=int))
            if run_step(lambda: after_mediation.apply(case, kind, who, None, request.form.get("claims"),
                                                      request.form.get("facts")),
                        success=_("%(kind)s: application submitted.", kind=kind.label)) is not None:
                return redirect(url_for(".case", pk=pk))
            case, identities, as_agent = self._case(pk)
        return self.render_template("court/application_new.html", title=new_label(kind, "party"), case=case,
                                    kind=kind, via="party", form=request.form,
                                    parties=[p for p, _a in identities], back=url_for(".case", pk=pk))

    @expose("/application/<int:app_id>/consent", methods=["POST"])
    @has_access
    @permission_name("apply")
    def consent(self, app_id):
        application = db.session.get(CourtApplication, app_id)
        if application is None:
            abort(404)
        case, identities, as_agent = self._case(application.case_id)
        pending = [(p, a) for p, a in identities
                   if p.id not in {c.party_id for c in application.consents}] or identities
        who = Applicant("agent" if as_agent else "party", g.user.id, pending[0][0] if pending else None,
                        pending[0][1] if pending else None, _client_ip())
        run_step(lambda: after_mediation.consent(application, who),
                 success=_("You consented to the joint application."))
        return redirect(url_for(".case", pk=case.id))


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
                                                                              "system"), rows=rows)

    @expose("/<int:pk>/result", methods=["POST"])
    @has_access
    @permission_name("result")
    def result(self, pk):
        """Return a result: the same code path as the REST API."""
        self._enabled()
        row = db.session.scalar(self._rows().where(SimulatedIntranetInbox.id == pk))
        if row is None:
            abort(404)
        body = {"message_id": row.message_id, "result": request.form.get("result", ""),
                "number": request.form.get("number", "").strip() or None,
                "reason": request.form.get("reason", "").strip() or None}
        scope = current_scope()

        def step():
            answer = after_mediation.receive_result(body, "simulated", None if scope.is_platform else scope.court_id)
            if answer["status"] == "ok":
                row.result = answer["result"][:200]
                row.returned_at = utcnow()
            return answer

        answer = run_step(step)
        if answer is not None:
            if answer["status"] == "duplicate":
                flash(_("This result was returned before; nothing changed."), "warning")
            else:
                flash(_("Result returned to the mediation platform."), "success")
        return redirect(url_for(".index"))
