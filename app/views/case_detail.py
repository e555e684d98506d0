"""The case page (基本信息 · 当事人 · 调解信息 · 操作记录) and its transition forms.

One page for the court and the mediator; what each may do on it comes from
`case_lifecycle.available_events`. A transition form posts the case version
it was shown, so a second clerk acting on a stale page gets a conflict
message instead of a second transition.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ..clock import today
from ..enums import CertificationStatus, PartyKind, TerminationReason
from ..extensions import db
from ..audit import case_history
from ..models import Court, Mediator, MediatorCourt, Ministry, Organisation, OrganisationCourt
from ..workflows import Conflict, after_mediation, case_intake, case_lifecycle
from . import agreements as agreement_views
from . import hearings as hearing_views
from . import messages as message_views
from . import internet as internet_views
from . import pushes as push_views
from .cases import CASE_LABELS, CasePartyView
from .scope import current_actor, load_visible_case, still_visible
from . import records
from .edge import edge


def _party_details(party) -> list[tuple[str, str]]:
    """A party's rows on the case page: a person's ID number, an organisation's credit code and
    legal representative [FAQ 3.1]."""
    names = ["phone"] + (["id_number"] if party.kind is PartyKind.PERSON else
                         ["credit_code", "legal_representative"]) + ["address"]
    return [(CasePartyView.label_columns[n], getattr(party, n) or "") for n in names]


def _deadline_note(case) -> str:
    if case.deadline is None:
        return ""
    days = (case.deadline - today()).days
    if days < 0:
        return _("overdue by %(n)d days", n=-days)
    return _("%(n)d days left", n=days)


#: forms that list their options as rows, each with its own 选择 button that submits it [FAQ 6.7 如何指派案件(2)]
PICK_BY_BUTTON = {"assign_ministry": "organisation_id"}


def _choices(case, actor, field, event=""):
    """Options of a transition form field, limited to what the guards accept."""
    if field == "organisation_id" and event == "assign_ministry":
        return db.session.execute(
            sa.select(Organisation.id, Organisation.name, Ministry.name).join(OrganisationCourt)
            .join(Ministry, Organisation.ministry_id == Ministry.id)
            .where(OrganisationCourt.court_id == case.court_id,
                   OrganisationCourt.status == CertificationStatus.CERTIFIED)
            .order_by(Ministry.sort_order, Organisation.name)
        ).all()
    if field == "mediator_id":
        return db.session.execute(
            sa.select(Mediator.id, Mediator.name, Mediator.phone).join(MediatorCourt)
            .where(MediatorCourt.court_id == case.court_id, MediatorCourt.status == CertificationStatus.CERTIFIED)
            .order_by(Mediator.name)
        ).all()
    if field == "organisation_id":
        return db.session.execute(
            sa.select(Organisation.id, Organisation.name, Organisation.contact_phone).join(OrganisationCourt)
            .where(OrganisationCourt.court_id == case.court_id,
                   OrganisationCourt.status == CertificationStatus.CERTIFIED)
            .order_by(Organisation.name)
        ).all()
    if field == "court_id":
        return db.session.execute(
            sa.select(Court.id, Court.name, Court.code).join(MediatorCourt, MediatorCourt.court_id == Court.id)
            .where(MediatorCourt.mediator_id == actor.scope.mediator_id,
                   MediatorCourt.status == CertificationStatus.CERTIFIED)
        ).all()
    if field == "termination_reason":
        return [(r.name, r.label, "") for r in TerminationReason]
    return []


def _form_data(form) -> dict:
    """Typed transition data from the posted form (bad numbers become None → guard message)."""
    data = {}
    for key in ("mediator_id", "organisation_id", "court_id"):
        value = form.get(key, "")
        data[key] = int(value) if value.isdigit() else None
    days = form.get("days", "")
    data["days"] = int(days) if days.isdigit() else None
    reason_code = form.get("termination_reason", "")
    data["termination_reason"] = TerminationReason[reason_code] if reason_code in TerminationReason.__members__ \
        else None
    data["reason"] = form.get("reason", "")
    data["confirm"] = form.get("confirm") == "y"
    return data


class CaseDetailView(BaseView):
    route_base = "/case"
    default_view = "detail"

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk):
        case = load_visible_case(pk)
        actor = current_actor()
        audit = [row for row in db.session.scalars(case_history(case.id)) if not records.is_noop(row)]
        return self.render_template(
            "cases/detail.html",
            title=str(case),
            case=case,
            labels=CASE_LABELS,
            events=case_lifecycle.available_events(case, actor),
            audit=audit,
            transition_event=records.transition_event,
            details_text=records.details_text,
            operator=records.actor_label,
            entity_label=records.entity_label,
            can_edit_info=case_intake.mediation_info_problem(case, actor) is None,
            can_edit_parties=case_intake.party_edit_problem(case, actor) is None,
            can_add_agent=lambda party: case_intake.agent_problem(party, actor) is None,
            role_label=lambda p: p.role.label_for(case.case_type),
            party_details=_party_details,
            missing=case_intake.missing_party_fields(case),
            deadline_note=_deadline_note(case),
            overdue=case.deadline is not None and case.deadline < today(),
            tab=request.args.get("tab", "basic"),
            document_buttons=agreement_views.case_buttons(case, actor),
            document_rows=agreement_views.document_rows(case, actor),
            after_buttons=after_mediation.available_applications(case, actor),
            applications=after_mediation.applications_of(case),
            hearing_section=hearing_views.case_section(case, actor),
            message_section=message_views.case_section(case, actor),
            internet_section=internet_views.case_section(case, actor),
            push_section=push_views.case_section(case, actor),
        )

    @expose("/<int:pk>/do/<event>", methods=["GET"])
    @has_access
    @permission_name("transition")
    def transition(self, pk, event):
        case = load_visible_case(pk)
        action = self._offered(case, event)
        if action is None:
            flash(_("This operation is not available for the case now."), "danger")
            return redirect(url_for(".detail", pk=pk))
        return self._transition_form(case, action, request.form)

    @expose("/<int:pk>/do/<event>", methods=["POST"])
    @has_access
    @permission_name("transition")
    @edge(refused="_transition_refused")
    def transition_post(self, pk, event):
        case = load_visible_case(pk)
        action = self._offered(case, event)
        if action is None:
            flash(_("This operation is not available for the case now."), "danger")
            return redirect(url_for(".detail", pk=pk))
        actor = current_actor()
        case_lifecycle.apply(case, event, actor, expected_version=request.form.get("version", type=int),
                             **_form_data(request.form))
        flash(action.hint.done(case) if action.hint.done else _("%(event)s: done.", event=action.label), "success")
        if action.transition.target is None or not still_visible(pk):
            return redirect(url_for("PreLitigationCaseView.list")
                            if actor.scope.court_id else url_for("MyCaseView.list"))
        return redirect(url_for(".detail", pk=pk))

    def _offered(self, case, event):
        return next((a for a in case_lifecycle.available_events(case, current_actor()) if a.event == event), None)

    def _transition_refused(self, pk, event, exc):
        case = load_visible_case(pk)
        action = self._offered(case, event)
        if isinstance(exc, Conflict) or action is None:
            return redirect(url_for(".detail", pk=pk))
        return self._transition_form(case, action, request.form)

    def _transition_form(self, case, action, form):
        actor = current_actor()
        choices = {f: _choices(case, actor, f, action.event) for f in action.fields}
        return self.render_template("cases/transition.html", title=action.label, case=case,
                                    transition=action, choices=choices, form=form,
                                    pick_by_button=PICK_BY_BUTTON.get(action.event))

    @expose("/<int:pk>/mediation-info", methods=["GET"])
    @has_access
    @permission_name("edit_info")
    def mediation_info(self, pk):
        """纠纷概况 and 调解方案, written by the mediator (or the court) [FAQ 3.9]."""
        case = load_visible_case(pk)
        problem = case_intake.mediation_info_problem(case, current_actor())
        if problem:
            flash(problem, "danger")
            return redirect(url_for(".detail", pk=pk, tab="mediation"))
        return self.render_template("cases/mediation_info.html", title=_("Edit mediation information"),
                                    case=case, labels=CASE_LABELS)

    @expose("/<int:pk>/mediation-info", methods=["POST"])
    @has_access
    @permission_name("edit_info")
    @edge
    def mediation_info_post(self, pk):
        case = load_visible_case(pk)
        case_intake.edit_mediation_info(case, current_actor(), request.form.get("summary", ""),
                                        request.form.get("plan", ""), request.form.get("version", type=int))
        flash(_("Mediation information saved."), "success")
        return redirect(url_for(".detail", pk=pk, tab="mediation"))
