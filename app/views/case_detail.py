"""The case page (基本信息 · 当事人 · 调解信息 · 操作记录) and its transition forms.

One page for the court and the mediator; what each may do on it comes from
`case_lifecycle.available_events`. A transition form posts the case version
it was shown, so a second clerk acting on a stale page gets a conflict
message instead of a second transition.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from ..enums import CertificationStatus, DocumentKind, PartyRole, TerminationReason
from ..extensions import db
from ..models import (
    Agreement,
    AuditLog,
    Court,
    Mediator,
    MediatorCourt,
    Ministry,
    Organisation,
    OrganisationCourt,
    Transcript,
)
from ..workflows import DomainError, after_mediation, agreements, case_intake, case_lifecycle
from ..workflows.case_lifecycle import TRANSITIONS, CaseConflict, NotAllowed
from . import after_mediation as after_mediation_views
from .cases import CASE_LABELS, CaseAgentView, CasePartyView, current_actor, load_visible_case



def _deadline_note(case) -> str:
    if case.deadline is None:
        return ""
    days = (case.deadline - dt.date.today()).days
    if days < 0:
        return _("overdue by %(n)d days", n=-days)
    return _("%(n)d days left", n=days)


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
        audit = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.case_id == case.id).order_by(AuditLog.id.desc())
        ).all()
        editable = case.status not in case_lifecycle.LOCKED
        documents = [
            (DocumentKind.AGREEMENT, d) for d in db.session.scalars(
                sa.select(Agreement).where(Agreement.case_id == case.id).order_by(Agreement.version.desc()))
        ] + [
            (DocumentKind.TRANSCRIPT, d) for d in db.session.scalars(
                sa.select(Transcript).where(Transcript.case_id == case.id).order_by(Transcript.id.desc()))
        ]
        return self.render_template(
            "court/case_detail.html",
            title=str(case),
            case=case,
            labels=CASE_LABELS,
            events=case_lifecycle.available_events(case, actor),
            audit=audit,
            transitions=TRANSITIONS,
            editable=editable,
            can_edit_parties=editable and (actor.is_court_staff_of(case) or actor.is_mediator_of(case)),
            role_label=lambda p: p.role.label_for(case.case_type),
            missing=case_lifecycle.missing_party_fields(case),
            deadline_note=_deadline_note(case),
            overdue=case.deadline is not None and case.deadline < dt.date.today(),
            entity_labels={"mediation_case": _("Case"), "case_party": _("Party"), "case_agent": _("Agent"),
                           "agreement": _("Mediation agreement"), "transcript": _("Mediation transcript"),
                           "signature": _("Signature")},
            field_labels={**CaseAgentView.label_columns, **CasePartyView.label_columns, **CASE_LABELS},
            tab=request.args.get("tab", "basic"),
            documents=documents,
            latest_agreement=agreements.latest_agreement(case),
            is_mediator=actor.is_mediator_of(case),
            mediator_signed=agreements.mediator_signed,
            party_signed=agreements.party_signed,
            PartyRole=PartyRole,
            after_buttons=after_mediation_views.case_actions(case, actor),
            applications=after_mediation.applications_of(case),
        )

    @expose("/<int:pk>/do/<event>", methods=["GET", "POST"])
    @has_access
    @permission_name("transition")
    def transition(self, pk, event):
        case = load_visible_case(pk)
        actor = current_actor()
        transition = TRANSITIONS.get(event)
        if transition is None or transition not in case_lifecycle.available_events(case, actor):
            flash(_("This operation is not available for the case now."), "danger")
            return redirect(url_for(".detail", pk=pk))
        form = request.form
        if request.method == "POST":
            data = _form_data(form)
            version = form.get("version", type=int)
            try:
                case_lifecycle.apply(case, event, actor, expected_version=version, **data)
                db.session.commit()
            except (CaseConflict, NotAllowed, DomainError) as exc:
                db.session.rollback()
                flash(exc.message, "danger")
                if isinstance(exc, CaseConflict):
                    return redirect(url_for(".detail", pk=pk))
                case = load_visible_case(pk)
            except StaleDataError:
                db.session.rollback()
                flash(_("The case was changed by someone else. Reload the page and try again."), "danger")
                return redirect(url_for(".detail", pk=pk))
            else:
                flash(_("%(event)s: done.", event=str(transition.label)), "success")
                if transition.target is None:
                    return redirect(url_for("PreLitigationCaseView.list")
                                    if actor.scope.court_id else url_for("MyCaseView.list"))
                return redirect(url_for(".detail", pk=pk))
        choices = {f: _choices(case, actor, f, event) for f in transition.fields}
        return self.render_template("court/case_transition.html", title=str(transition.label), case=case,
                                    transition=transition, choices=choices, form=form)

    @expose("/<int:pk>/mediation-info", methods=["GET", "POST"])
    @has_access
    @permission_name("edit_info")
    def mediation_info(self, pk):
        """纠纷概况 and 调解方案, written by the mediator (or the court) [FAQ 3.9]."""
        case = load_visible_case(pk)
        actor = current_actor()
        if not (actor.is_mediator_of(case) or actor.is_court_staff_of(case)):
            flash(_("Only the case's mediator or court can edit the mediation information."), "danger")
            return redirect(url_for(".detail", pk=pk, tab="mediation"))
        try:
            case_intake.check_editable(case)
        except DomainError as exc:
            flash(exc.message, "danger")
            return redirect(url_for(".detail", pk=pk, tab="mediation"))
        if request.method == "POST":
            if request.form.get("version", type=int) != case.version:
                flash(_("The case was changed by someone else. Reload the page and try again."), "danger")
                return redirect(url_for(".detail", pk=pk, tab="mediation"))
            case.summary = request.form.get("summary", "").strip() or None
            case.plan = request.form.get("plan", "").strip() or None
            try:
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                flash(_("The case was changed by someone else. Reload the page and try again."), "danger")
            else:
                flash(_("Mediation information saved."), "success")
            return redirect(url_for(".detail", pk=pk, tab="mediation"))
        return self.render_template("court/case_mediation_info.html", title=_("Edit mediation information"),
                                    case=case, labels=CASE_LABELS)
