"""Public pages: 忘记密码 on every portal [FAQ 1.2–1.4, 7.3(2)], the home page (/health: app/operations.py).

Forgot password is open to anyone (no login); the SMS code is the proof.
The page says the same thing whether or not the phone has an account.
"""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, IndexView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo
from flask_appbuilder.forms import DynamicForm

from ..extensions import db
from ..forms import Mobile, StrongPassword
from ..roles import Portal
from ..security import current_scope
from ..workflows import DomainError
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
        return self.render_template(self.index_template, appbuilder=self.appbuilder, scope=scope)
