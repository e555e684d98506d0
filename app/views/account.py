"""Public pages: 忘记密码 on every portal [FAQ 1.2–1.4, 7.3(2)], the home page (/health: app/operations.py).

Forgot password is open to anyone (no login); the SMS code is the proof.
The page says the same thing whether or not the phone has an account.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, IndexView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo
from flask_appbuilder.forms import DynamicForm

from ..enums import ApplicationKind, ApplicationStatus, CaseStatus, CaseType
from ..extensions import db
from ..forms import Mobile, StrongPassword
from ..roles import Portal
from ..security import current_scope
from ..workflows import DomainError, court_todo
from ..workflows.accounts import request_reset_code, reset_password
from .edge import edge

PORTAL_CHOICES = [(p.name, p.value) for p in Portal]
#: [FAQ 6.2] an organisation logs in with its credit code: no SMS code resets its password
ORGANISATION_RESET_RULE = _l(
    "An organisation's password is not reset by SMS [FAQ 6.2]: 工商联 organisations contact the platform's "
    "online support with a valid work ID; other ministries' organisations ask their provincial ministry "
    "account (Organisation management › Mediation organisation management).")


class ForgotForm(DynamicForm):
    portal = SelectField(_l("Login portal"), choices=PORTAL_CHOICES, validators=[DataRequired()])
    phone = StringField(_l("Mobile number"), validators=[DataRequired(), Mobile()])


class ResetForm(DynamicForm):
    portal = SelectField(_l("Login portal"), choices=PORTAL_CHOICES, validators=[DataRequired()])
    phone = StringField(_l("Mobile number"), validators=[DataRequired(), Mobile()])
    code = StringField(_l("Verification code"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), StrongPassword()])
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class PasswordResetView(BaseView):
    """No `@has_access`: these pages are for people who cannot log in."""

    route_base = "/password"
    default_view = "forgot"

    @expose("/forgot", methods=["GET"])
    def forgot(self):
        form = ForgotForm()
        if request.args.get("portal") in Portal.__members__:
            form.portal.data = request.args["portal"]
        return self._forgot_form(form)

    @expose("/forgot", methods=["POST"])
    @edge(refused="_forgot_refused")
    def forgot_post(self):
        form = ForgotForm()
        if not form.validate_on_submit():
            return self._forgot_form(form)
        portal = Portal[form.portal.data]
        if portal is Portal.ORGANISATION:
            raise DomainError(str(ORGANISATION_RESET_RULE))
        g.audit_actor_name = form.phone.data
        request_reset_code(form.phone.data, portal)
        flash(_("If %(phone)s has a %(portal)s account, a verification code was sent to it.",
                phone=form.phone.data, portal=portal.label), "info")
        return redirect(url_for(".reset", portal=portal.name, phone=form.phone.data))

    def _forgot_refused(self, exc):
        return self._forgot_form(ForgotForm())

    def _forgot_form(self, form):
        return self.render_template("court/forgot.html", title=_("Forgot password"), form=form,
                                    organisation_rule=ORGANISATION_RESET_RULE)

    @expose("/reset", methods=["GET"])
    def reset(self):
        form = ResetForm()
        if request.args.get("portal") in Portal.__members__:
            form.portal.data = request.args["portal"]
        form.phone.data = request.args.get("phone", "")
        return self._reset_form(form)

    @expose("/reset", methods=["POST"])
    @edge(refused="_reset_refused")
    def reset_post(self):
        """A wrong code is refused after the edge kept the attempt (`CodeRejected.keeps_changes`)."""
        form = ResetForm()
        if not form.validate_on_submit():
            return self._reset_form(form)
        portal = Portal[form.portal.data]
        g.audit_actor_name = form.phone.data
        reset_password(form.phone.data, portal, form.code.data, form.password.data)
        flash(_("Password changed. Log in with the new password."), "success")
        return redirect(url_for(self.appbuilder.sm.auth_view.endpoint + ".login", portal=portal.name))

    def _reset_refused(self, exc):
        return self._reset_form(ResetForm())

    def _reset_form(self, form):
        return self.render_template("court/reset.html", title=_("Set a new password"), form=form)


class HomeView(IndexView):
    index_template = "court/index.html"

    @expose("/")
    @has_access
    def index(self):
        scope = current_scope()
        if scope.portal in (Portal.PARTY, Portal.AGENT):
            return redirect(url_for("PartyPortalView.index"))
        if scope.portal is Portal.GRASSROOTS:
            return redirect(url_for("LiaisonView.index"))
        if scope.portal is Portal.ORGANISATION:
            return redirect(url_for("OrganisationPortalView.index"))
        tiles = court_tiles(scope.court_id, self.appbuilder.sm.has_access) if scope.court_id else []
        return self.render_template(self.index_template, appbuilder=self.appbuilder, scope=scope, tiles=tiles)


@dataclass
class Tile:
    """One to-do count of the home page, with the list it counts (and, split by kind, its parts)."""

    key: str
    label: str
    count: int
    url: str | None
    parts: list = field(default_factory=list)  # (label, count, url)
    urgent: bool = False


#: where the 待指派 cases of each type are listed
ASSIGN_LISTS = [(CaseType.PRE_LITIGATION, "PreLitigationCaseView"), (CaseType.IN_LITIGATION, "InLitigationCaseView"),
                (CaseType.INTERNET, "InternetCaseView")]


def court_tiles(court_id: int, has_access) -> list[Tile]:
    """待指派, 临期, 超期, 待受理申请, 待立案, 推送失败 of the court, each linking to its list; a list the
    user may not open is not offered."""
    todo = court_todo.court_todo(court_id)
    tiles = []
    # the total is the sum of the parts shown, so it never counts what no link leads to
    parts = [(case_type.label, todo.to_assign.get(case_type, 0),
              url_for(f"{view}.list", _flt_0_status=CaseStatus.TO_ASSIGN.name))
             for case_type, view in ASSIGN_LISTS if has_access("can_list", view)]
    if parts:
        tiles.append(Tile("to-assign", _("To assign"), sum(n for _label, n, _url in parts), None, parts))
    if has_access("can_list", "DeadlineView"):
        tiles.append(Tile("due-soon", _("Due soon"), todo.due_soon, url_for("DeadlineView.list", due="soon")))
        tiles.append(Tile("overdue", _("Past the deadline"), todo.overdue, url_for("DeadlineView.list", due="overdue"),
                          urgent=todo.overdue > 0))
    accept_lists = [(ApplicationKind.JUDICIAL_CONFIRMATION, "JudicialConfirmationView"),
                    (ApplicationKind.MEDIATION_DOCUMENT, "MediationDocumentView")]
    parts = [(kind.label, todo.to_accept.get(kind, 0),
              url_for(f"{view}.list", _flt_0_status=ApplicationStatus.PENDING.name))
             for kind, view in accept_lists if has_access("can_list", view)]
    if parts:
        tiles.append(Tile("to-accept", _("Applications to accept"), sum(n for _label, n, _url in parts), None,
                          parts))
    if has_access("can_list", "FilingView"):
        tiles.append(Tile("to-file", _("To file"), todo.to_file,
                          url_for("FilingView.list", _flt_0_status=ApplicationStatus.PENDING.name)))
    if has_access("can_list", "CourtPushView"):
        tiles.append(Tile("push-failed", _("Push failed"), todo.push_failed,
                          url_for("CourtPushView.index", show="failing"), urgent=todo.push_failed > 0))
    return tiles
