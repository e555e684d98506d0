"""互联网调解 screens: the party's application and choice of mediator, the mediator's inbox,
the public mediator profile, evidence, conflict declarations and changing the mediator.

Who may use what (each handler also re-checks through its workflow):
- `InternetApplyView` /internet — 当事人端: apply, see one's applications, recommendations,
  更多调解员, choose; the other side confirms or refuses. Anyone else: 403; another
  applicant's application: 404.
- `MediatorProfileView` /mediator-profile/<id> — public (Rules art 5): no phone, no ID number.
- `InternetInboxView` /internet-inbox — 调解员端: the applications waiting for this mediator;
  受理 (court + conflict declaration) or 不予受理 (reason).
- `EvidenceView` /evidence — upload (the case's parties and agents), 核验 (its mediator),
  read (its parties, agents, mediator and court); anyone else 404.
- `MediatorChangeView` /mediator-change — a party asks; the court (or an internet case's
  applicant) decides. `ConflictView` /conflict — the mediator declares (Rules art 13).
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ..clock import shown
from ..enums import CertificationStatus, EvidenceStatus, InternetStatus, PartyKind
from ..extensions import db
from ..models import Court, InternetApplication, Mediator, MediatorChange, MediatorCourt
from ..storage import file_store
from ..workflows import NotFound, conflicts, evidence, internet, mediator_change
from ..workflows.evidence import party_of
from .edge import edge
from .scope import current_actor, load_portal_case, load_visible_case

FORM_FIELDS = ("cause", "claim_amount", "summary", "claims", "region", "consent") + tuple(
    f"{side}_{f}" for side in ("applicant", "respondent") for f in internet.PARTY_FIELDS)


def _load_application(pk: int) -> InternetApplication:
    app = db.session.get(InternetApplication, pk)
    if app is None or not internet.visible_to(app, current_actor()):
        abort(404)
    return app


def _local(value):
    return shown(value)


@dataclass
class EvidenceRow:
    ev: object
    url: str
    verify_url: str | None

    @property
    def css(self) -> str:
        return "label-success" if self.ev.status is EvidenceStatus.VERIFIED else "label-default"


def accept_by(app):
    """The day the chosen mediator must accept by (Rules art 12), while it waits for them."""
    return app.case.deadline if app.status is InternetStatus.WAITING else None


def evidence_rows(case, actor) -> list[EvidenceRow]:
    rows = []
    for ev in evidence.of_case(case):
        actions = evidence.available(ev, actor)
        rows.append(EvidenceRow(ev, url_for("EvidenceView.read", pk=ev.id),
                                url_for("EvidenceView.verify", pk=ev.id) if actions else None))
    return rows


def _mediator_choices(case):
    """The mediators a change may go to: the internet application's roster, or the case court's."""
    app = internet.application_of(case)
    if app is not None:
        return [(m.id, m.name, m.expertise or "") for m in internet.search_roster(app) if m.id != case.mediator_id]
    return db.session.execute(
        sa.select(Mediator.id, Mediator.name, Mediator.expertise).join(MediatorCourt)
        .where(MediatorCourt.court_id == case.court_id, MediatorCourt.status == CertificationStatus.CERTIFIED,
               Mediator.id != (case.mediator_id or 0))
        .order_by(Mediator.name)).all()


def case_section(case, actor) -> dict:
    """What the case page (court, mediator) and the party's case page show of this area."""
    pending = mediator_change.pending_of(case)
    app = internet.application_of(case)
    return {
        # the chosen mediator accepts or declines on the application's page
        "application_url": url_for("InternetInboxView.detail", pk=app.id)
        if app is not None and any(a.event == "accept" for a in internet.available(app, actor)) else None,
        "evidence": evidence_rows(case, actor) if evidence.may_read(case, actor) else [],
        "may_upload": evidence.may_upload(case, actor),
        "declarations": conflicts.declarations_of(case),
        "needs_declaration": conflicts.needs_declaration(case, actor),
        "ask_event": mediator_change.ask_event(case, actor),
        "ask_action": mediator_change.ask_action(case, actor),
        "changes": mediator_change.changes_of(case),
        "pending": pending,
        "decisions": mediator_change.available(pending, actor) if pending else [],
        "mediator_choices": _mediator_choices(case) if pending else [],
        "local": _local,
    }


class InternetApplyView(BaseView):
    """当事人端 › 互联网调解 [FAQ 5.1(3); Rules arts 4, 8]."""

    route_base = "/internet"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        actor = current_actor()
        mine = internet.applications_of_user(actor.user_id)
        asked = [a for a in internet.applications_as_respondent(evidence.login_phone(actor))
                 if a not in mine and internet.visible_to(a, actor)]
        return self.render_template("internet/index.html", title=_("Internet mediation"), mine=mine, asked=asked)

    @expose("/apply", methods=["GET"])
    @has_access
    @permission_name("apply")
    def apply(self):
        return self._form({})

    @expose("/apply", methods=["POST"])
    @has_access
    @permission_name("apply")
    @edge(refused="_apply_refused")
    def apply_post(self):
        data = {f: request.form.get(f, "") for f in FORM_FIELDS}
        data["consent"] = request.form.get("consent") == "y"
        files = [(f.filename, f.stream) for f in request.files.getlist("evidence") if f and f.filename]
        app = internet.submit(current_actor(), data, files)
        flash(_("Your application was submitted. Now choose a mediator."), "success")
        return redirect(url_for(".show", pk=app.id))

    def _apply_refused(self, exc):
        return self._form(request.form)

    def _form(self, form):
        actor = current_actor()
        return self.render_template("internet/apply.html", title=_("Apply for internet mediation"), form=form,
                                    causes=internet.CAUSES, regions=internet.regions(),
                                    kinds=list(PartyKind), my_phone=evidence.login_phone(actor))

    @expose("/<int:pk>")
    @has_access
    @permission_name("show")
    def show(self, pk):
        app = _load_application(pk)
        actor = current_actor()
        actions = internet.available(app, actor)
        choosing = any(a.event == "choose" for a in actions)
        return self.render_template(
            "internet/show.html", title=_("Internet mediation application"), app=app, case=app.case,
            actions=[a for a in actions if a.event != "choose"], choosing=choosing,
            recommendations=internet.recommend(app) if choosing else [],
            region=internet.region_label(app.province, app.city),
            evidence=evidence_rows(app.case, actor), local=_local, accept_by=accept_by(app),
            role_label=lambda p: p.role.label_for(app.case.case_type))

    @expose("/<int:pk>/mediators")
    @has_access
    @permission_name("show")
    def mediators(self, pk):
        """更多调解员: the region's roster by name, expertise, court, organisation."""
        app = _load_application(pk)
        actor = current_actor()
        if not any(a.event == "choose" for a in internet.available(app, actor)):
            return redirect(url_for(".show", pk=pk))
        args = request.args
        found = internet.search_roster(app, args.get("name", ""), args.get("expertise", ""),
                                       args.get("court_id", type=int), args.get("organisation_id", type=int))
        return self.render_template("internet/mediators.html", title=_("More mediators"), app=app, found=found,
                                    courts=internet.region_courts(app),
                                    organisations=internet.roster_organisations(app), args=args,
                                    courts_of=internet.certified_courts)

    @expose("/<int:pk>/choose", methods=["POST"])
    @has_access
    @permission_name("choose")
    @edge
    def choose(self, pk):
        app = _load_application(pk)
        internet.choose(app, current_actor(), request.form.get("mediator_id", type=int),
                        request.form.get("version", type=int))
        flash(_("The mediator was told; they accept or decline within 3 working days."), "success")
        return redirect(url_for(".show", pk=pk))

    @expose("/<int:pk>/do/<event>", methods=["POST"])
    @has_access
    @permission_name("respond")
    @edge
    def respond(self, pk, event):
        app = _load_application(pk)
        actor = current_actor()
        version = request.form.get("version", type=int)
        if event == "confirm":
            internet.confirm(app, actor, version)
            flash(_("You agreed to take part in the mediation."), "success")
        elif event == "refuse":
            internet.refuse(app, actor, request.form.get("reason", ""), version)
            flash(_("You refused the mediation; it is terminated."), "success")
        else:
            abort(404)
        return redirect(url_for(".show", pk=pk))


class MediatorProfileView(BaseView):
    """The public profile of a mediator on the roster (Rules art 5)."""

    route_base = "/mediator-profile"

    @expose("/<int:pk>")
    def profile(self, pk):
        mediator = db.session.get(Mediator, pk)
        if mediator is None:
            abort(404)
        data = internet.profile(mediator)
        if not data["courts"]:
            abort(404)  # only the roster is public
        return self.render_template("internet/profile.html", title=_("Mediator profile"), **data)


class InternetInboxView(BaseView):
    """调解员端 › 待受理申请: accept (court, conflicts) or decline within 3 working days (Rules arts 12, 13)."""

    route_base = "/internet-inbox"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        actor = current_actor()
        apps = internet.waiting_for(actor.scope.mediator_id) if actor.scope.mediator_id else []
        return self.render_template("internet/inbox.html", title=_("Internet applications to accept"), apps=apps)

    @expose("/<int:pk>")
    @has_access
    @permission_name("decide")
    def detail(self, pk, form=None):
        app = _load_application(pk)
        actor = current_actor()
        return self.render_template(
            "internet/decide.html", title=_("Internet mediation application"), app=app, case=app.case,
            actions=internet.available(app, actor), courts=internet.certified_courts(actor.scope.mediator_id)
            if actor.scope.mediator_id else [], form=form or {}, evidence=evidence_rows(app.case, actor),
            region=internet.region_label(app.province, app.city), local=_local, accept_by=accept_by(app),
            role_label=lambda p: p.role.label_for(app.case.case_type))

    @expose("/<int:pk>/<event>", methods=["POST"])
    @has_access
    @permission_name("decide")
    @edge(refused="_refused")
    def decide(self, pk, event):
        app = _load_application(pk)
        actor = current_actor()
        version = request.form.get("version", type=int)
        if event == "accept":
            internet.accept(app, actor, request.form.get("court_id", type=int), request.form.get("conflict"),
                            request.form.get("disclosure"), version)
            flash(_("Accepted: the case number is %(number)s.", number=app.case.number), "success")
            return redirect(url_for("CaseDetailView.detail", pk=app.case_id))
        if event == "decline":
            internet.decline(app, actor, request.form.get("reason", ""), version)
            flash(_("Declined: the application went back to the applicant."), "success")
            return redirect(url_for(".index"))
        abort(404)

    def _refused(self, pk, event, exc):
        return self.detail(pk, form=request.form)


def _stream(ev) -> Response:
    resp = Response(file_store().iter_range(ev.file_key), mimetype=ev.content_type)
    ext = ev.file_name.rsplit(".", 1)[-1] if "." in ev.file_name else "bin"
    resp.headers["Content-Disposition"] = (f"attachment; filename=evidence.{ext}; "
                                           f"filename*=UTF-8''{quote(ev.file_name)}")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Length"] = str(ev.size)
    return resp


class EvidenceView(BaseView):
    """证据: upload (parties, agents), 核验 (mediator), read (parties, agents, mediator, court)."""

    route_base = "/evidence"

    @expose("/<int:pk>")
    @has_access
    @permission_name("read")
    def read(self, pk):
        ev = evidence.readable(pk, current_actor())
        if ev is None:
            abort(404)
        return _stream(ev)

    @expose("/case/<int:case_id>/upload", methods=["POST"])
    @has_access
    @permission_name("upload")
    @edge
    def upload(self, case_id):
        case = load_portal_case(case_id)
        files = [f for f in request.files.getlist("evidence") if f and f.filename]
        if not files:
            flash(_("Choose a file to upload."), "danger")
        for f in files:
            evidence.upload(case, current_actor(), f.stream, f.filename)
        if files:
            flash(_("Evidence uploaded."), "success")
        return redirect(request.referrer or url_for("PortalApplicationView.case", pk=case_id))

    @expose("/<int:pk>/verify", methods=["POST"])
    @has_access
    @permission_name("verify")
    @edge
    def verify(self, pk):
        actor = current_actor()
        ev = evidence.readable(pk, actor)
        if ev is None:
            raise NotFound(_("No such evidence."))
        evidence.verify(ev, actor, request.form.get("version", type=int))
        flash(_("Marked as verified."), "success")
        return redirect(url_for("CaseDetailView.detail", pk=ev.case_id))


class MediatorChangeView(BaseView):
    """更换调解员 (Rules art 14): a party asks; the court or an internet case's applicant decides."""

    route_base = "/mediator-change"

    @expose("/case/<int:case_id>/ask", methods=["POST"])
    @has_access
    @permission_name("ask")
    @edge
    def ask(self, case_id):
        case = load_portal_case(case_id)
        event = request.form.get("event", "ask")
        if event not in ("ask", "ask_again"):
            abort(404)
        mediator_change.ask(case, current_actor(), request.form.get("reason", ""), event)
        flash(_("Your request was recorded."), "success")
        return redirect(url_for("PortalApplicationView.case", pk=case_id))

    @expose("/<int:pk>/<event>", methods=["POST"])
    @has_access
    @permission_name("decide")
    @edge
    def decide(self, pk, event):
        change = db.session.get(MediatorChange, pk)
        actor = current_actor()
        if change is None or event not in ("approve", "reject"):
            abort(404)
        if not (actor.is_court_staff_of(change.case) or party_of(change.case, actor) is not None):
            abort(404)
        mediator_change.decide(change, event, actor, request.form.get("version", type=int),
                               mediator_id=request.form.get("mediator_id", type=int),
                               reason=request.form.get("reason", ""))
        flash(_("Decided."), "success")
        return redirect(request.referrer or url_for("PartyPortalView.index"))


class ConflictView(BaseView):
    """利益冲突声明 on a case the court assigned (Rules art 13)."""

    route_base = "/conflict"

    @expose("/case/<int:case_id>", methods=["POST"])
    @has_access
    @permission_name("declare")
    @edge
    def declare(self, case_id):
        case = load_visible_case(case_id)
        conflicts.declare(case, current_actor(), request.form.get("conflict"), request.form.get("disclosure"))
        flash(_("Your declaration was recorded."), "success")
        return redirect(url_for("CaseDetailView.detail", pk=case_id))


VIEWS = [InternetApplyView, MediatorProfileView, InternetInboxView, EvidenceView, MediatorChangeView, ConflictView]
