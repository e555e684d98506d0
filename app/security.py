"""Who is acting, as which identity, over which court.

- The portal chosen at login (`session["portal"]`) narrows the user's roles to
  that portal's roles, so a mediator who is also a party acts as one of them at
  a time (SPEC §1). Logging in through a portal the person has no identity for
  is refused with the name of the right portal [FAQ 3.14(2)].
- `current_scope()` is the court the acting user works for; every court-data
  view filters by it and every workflow re-checks it (STYLE §7).
- Permission look-ups are computed once per request instead of one query per
  menu item (notes/performance.md §1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask import abort, flash, g, has_request_context, redirect, request, session
from flask_appbuilder import expose
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired

from .extensions import db
from .models import CourtStaff, Mediator, MinistryAccount, Organisation
from .roles import COURT_ADMIN, PLATFORM_ADMIN, PLATFORM_SUPPORT, Portal, portals_for_roles
from .validation import normalize_phone

PORTAL_SESSION_KEY = "portal"
#: the cookie the login pages remember the chosen portal in
PORTAL_COOKIE = "login_portal"
_MOBILE_AGENTS = ("Mobile", "Android", "iPhone", "iPad", "MicroMessenger")


def remembered_portal() -> Portal:
    """The portal a login page opens on: the one asked for, the one chosen last time, or —
    on a phone — 当事人; else 法院端."""
    for name in (request.args.get("portal"), request.cookies.get(PORTAL_COOKIE)):
        if name in Portal.__members__:
            return Portal[name]
    agent = request.headers.get("User-Agent", "")
    return Portal.PARTY if any(m in agent for m in _MOBILE_AGENTS) else Portal.COURT


def start_session(user, portal: Portal) -> None:
    """Log `user` in as their `portal` identity (the password and the SMS-code logins)."""
    login_user(user, remember=False)
    session[PORTAL_SESSION_KEY] = portal.name
    g.pop("court_scope", None)
    g.pop("_permissions", None)


def remember_portal(response, portal: Portal):
    """The login pages open on this portal next time (a year)."""
    response.set_cookie(PORTAL_COOKIE, portal.name, max_age=365 * 24 * 3600, samesite="Lax", httponly=False)
    return response


@dataclass(frozen=True)
class Scope:
    """The acting identity's reach. `court_id is None` and not platform: nothing."""

    portal: Optional[Portal]
    is_platform: bool = False
    court_id: Optional[int] = None
    is_court_admin: bool = False
    staff_id: Optional[int] = None
    mediator_id: Optional[int] = None
    #: 部委端: the account's ministry and region (province, optionally city)
    ministry_id: Optional[int] = None
    province: Optional[str] = None
    city: Optional[str] = None
    #: 调解组织端: the organisation whose account this is
    organisation_id: Optional[int] = None

    @property
    def sees_all_courts(self) -> bool:
        return self.is_platform


def active_portal() -> Optional[Portal]:
    name = session.get(PORTAL_SESSION_KEY) if has_request_context() else None
    return Portal[name] if name in Portal.__members__ else None


def current_scope() -> Scope:
    """The scope of the user acting in this request (cached on `g`)."""
    if "court_scope" in g:
        return g.court_scope
    g.court_scope = scope = _load_scope()
    return scope


def _load_scope() -> Scope:
    user = getattr(g, "user", None)
    if user is None or not user.is_authenticated:
        return Scope(portal=None)
    portal = active_portal()
    role_names = {r.name for r in user.roles}
    if portal is Portal.PLATFORM and role_names & {PLATFORM_ADMIN, PLATFORM_SUPPORT}:
        return Scope(portal=portal, is_platform=True)
    if portal is Portal.COURT:
        staff = db.session.scalar(db.select(CourtStaff).filter_by(user_id=user.id))
        if staff is None:
            return Scope(portal=portal)
        return Scope(
            portal=portal,
            court_id=staff.court_id,
            is_court_admin=staff.is_admin and COURT_ADMIN in role_names,
            staff_id=staff.id,
        )
    if portal is Portal.MEDIATOR:
        mediator_id = db.session.scalar(db.select(Mediator.id).filter_by(user_id=user.id))
        return Scope(portal=portal, mediator_id=mediator_id)
    if portal is Portal.ORGANISATION:
        org_id = db.session.scalar(db.select(Organisation.id).filter_by(user_id=user.id))
        return Scope(portal=portal, organisation_id=org_id)
    if portal is Portal.MINISTRY:
        account = db.session.scalar(db.select(MinistryAccount).filter_by(user_id=user.id))
        if account is not None:
            return Scope(portal=portal, ministry_id=account.ministry_id, province=account.province,
                         city=account.city)
    return Scope(portal=portal)


def require_court_scope() -> Scope:
    """The scope of a court-side request; 403 for anyone without a court."""
    scope = current_scope()
    if not scope.is_platform and scope.court_id is None:
        abort(403)
    return scope


class PortalLoginForm(DynamicForm):
    portal = SelectField(
        _l("Login portal"),
        choices=[(p.name, p.value) for p in Portal],
        default=Portal.COURT.name,
        validators=[DataRequired()],
    )
    username = StringField(_l("Mobile number / account"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class PortalAuthView(AuthDBView):
    login_template = "court/login.html"

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = PortalLoginForm()
        if request.method == "GET":
            form.portal.data = remembered_portal().name
        if form.validate_on_submit():
            portal = Portal[form.portal.data]
            username = form.username.data.strip()
            if username[:1].isdigit() or username[:1] == "+":
                username = normalize_phone(username)
            user = self.appbuilder.sm.auth_user_db(username, form.password.data)
            if not user:
                flash(_("Wrong account or password."), "warning")
                return self._render_login(form)
            role_names = [r.name for r in user.roles]
            if not set(role_names) & set(portal.roles):
                right = portals_for_roles(role_names)
                if right:
                    names = "、".join(f"【{p.label}】" for p in right)
                    flash(
                        _(
                            "This account has no %(portal)s identity. Please log in through %(right)s.",
                            portal=portal.label,
                            right=names,
                        ),
                        "warning",
                    )
                else:
                    flash(_("This account has no identity on the platform yet."), "warning")
                return self._render_login(form)
            start_session(user, portal)
            next_url = request.args.get("next")
            return remember_portal(redirect(get_safe_redirect(next_url) if next_url else
                                            self.appbuilder.get_url_for_index), portal)
        return self._render_login(form)

    def _render_login(self, form):
        return self.render_template(
            self.login_template,
            title=_("Login"),
            form=form,
            portals=list(Portal),
            appbuilder=self.appbuilder,
        )


class CourtSecurityManager(SecurityManager):
    authdbview = PortalAuthView

    def get_user_roles(self, user):
        roles = super().get_user_roles(user)
        portal = active_portal() if user.is_authenticated else None
        if portal is None:
            return roles
        allowed = set(portal.roles)
        return [r for r in roles if r.name in allowed]

    def _has_view_access(self, user, permission_name, view_name) -> bool:
        if not has_request_context():
            return super()._has_view_access(user, permission_name, view_name)
        cache = g.get("_permissions")
        if cache is None or cache[0] != user.id:
            cache = (user.id, self.get_user_permissions(user))
            g._permissions = cache
        return (permission_name, view_name) in cache[1]
