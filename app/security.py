"""Who is acting, as which identity, over which court.

- The portal chosen at login (`session["portal"]`) narrows the user's roles to
  that portal's roles, so a mediator who is also a party acts as one of them at
  a time (SPEC §1). Logging in through a portal the person has no identity for
  is refused with the name of the right portal [FAQ 3.14(2)].
- `current_scope()` is the court the acting user works for; every court-data
  view filters by it and every workflow re-checks it (STYLE §7).
- Permission look-ups are computed once per role set and security version and
  kept per process, each answer once per request (app/permission_cache.py,
  notes/performance.md §1).
- Sessions end (finding M2, app/sessions.py): a login stamps the account's
  session generation into the session or the API token; `load_user` and
  `load_user_jwt` refuse a stale one; logout and a password change or reset
  add one to it.
- Logins are limited (finding M1): failed attempts per account and per client
  address, form and JSON login together (app/sessions.py), 429 in Chinese.
- The JSON login (`/api/v1/security/login`) takes the portal like the form:
  `{"username", "password", "portal"}`; the token carries the portal and the
  generation, so an API client acts as one identity, as a browser does.
- 修改密码 asks for the current password and applies the password rule
  (finding M3): FAB's own form view with our form (`ResetMyPasswordView`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa

from flask import abort, current_app, flash, g, has_request_context, jsonify, redirect, request, session
from flask_appbuilder import expose
from flask_appbuilder.const import API_SECURITY_ACCESS_TOKEN_KEY, API_SECURITY_REFRESH_TOKEN_KEY
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, ResetMyPasswordView as FabResetMyPasswordView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt, get_jwt_identity, jwt_required
from flask_login import login_user, logout_user
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo
from wtforms.validators import StopValidation

from . import permission_cache, sessions
from . import fab_admin
from .extensions import db
from .forms import StrongPassword
from .models import CourtStaff, Mediator, MinistryAccount, Organisation
from .roles import COURT_ADMIN, PLATFORM_ADMIN, PLATFORM_SUPPORT, Portal, portals_for_roles
from .serving import request_id
from .transactions import writes
from .validation import normalize_phone
from .workflows.accounts import change_password, current_password_problem

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
    sessions.stamp(user.id)  # finding M2: this session belongs to the account's current generation
    g.pop("court_scope", None)
    g.pop("_permissions", None)
    g.pop("_access", None)


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
    """The portal of this request: the session's, or an API token's `portal` claim."""
    if not has_request_context():
        return None
    name = session.get(PORTAL_SESSION_KEY)
    if name is None:
        try:
            name = get_jwt().get("portal")
        except RuntimeError:  # no token was verified in this request
            name = None
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


def login_name(raw: str) -> str:
    """The account name as typed: a phone is normalised (+86, spaces, full-width digits)."""
    username = (raw or "").strip()
    if username[:1].isdigit() or username[:1] == "+":
        username = normalize_phone(username)
    return username


def authenticate(username: str, password: str):
    """The account if the password is right; a failure counts against the account and the address (M1).

    Raises `sessions.LoginLocked` (429) while either has no attempts left.
    """
    sessions.check_login_allowed(username)
    user = current_app.appbuilder.sm.auth_user_db(username, password)
    if not user:
        sessions.login_failed(username)
    return user


def portal_refusal(user, portal: Portal) -> Optional[str]:
    """Why `user` may not log in through `portal` (naming the right portal [FAQ 3.14(2)]), or None."""
    role_names = [r.name for r in user.roles]
    if set(role_names) & set(portal.roles):
        return None
    right = portals_for_roles(role_names)
    if right:
        names = "、".join(f"【{p.label}】" for p in right)
        return _("This account has no %(portal)s identity. Please log in through %(right)s.",
                 portal=portal.label, right=names)
    return _("This account has no identity on the platform yet.")


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
            user = authenticate(login_name(form.username.data), form.password.data)
            if not user:
                flash(_("Wrong account or password."), "warning")
                return self._render_login(form)
            refusal = portal_refusal(user, portal)
            if refusal:
                flash(refusal, "warning")
                return self._render_login(form)
            start_session(user, portal)
            next_url = request.args.get("next")
            return remember_portal(redirect(get_safe_redirect(next_url) if next_url else
                                            self.appbuilder.get_url_for_index), portal)
        return self._render_login(form)

    @expose("/logout/")
    @writes  # ending the account's sessions is a write on a GET
    def logout(self):
        """Logout ends every session of the account, on every device (finding M2)."""
        user = self._get_authenticated_user()
        logout_user()
        session.pop(PORTAL_SESSION_KEY, None)
        session.pop(sessions.GENERATION_KEY, None)
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)
        return redirect(current_app.config.get("LOGOUT_REDIRECT_URL", self.appbuilder.get_url_for_index))

    def _render_login(self, form):
        return self.render_template(
            self.login_template,
            title=_("Login"),
            form=form,
            portals=list(Portal),
            appbuilder=self.appbuilder,
        )


class _CurrentPassword:
    """修改密码: the account's current password, counted like a failed login when wrong (M1, M3)."""

    def __call__(self, form, field):
        sessions.check_login_allowed(g.user.username)
        problem = current_password_problem(g.user, field.data)
        if problem:
            sessions.login_failed(g.user.username)
            raise StopValidation(problem)


class _NotTheCurrent:
    def __call__(self, form, field):
        if field.data and field.data == form.current_password.data:
            raise StopValidation(_("The new password must differ from the current one."))


class ChangePasswordForm(DynamicForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), _CurrentPassword()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), StrongPassword(), _NotTheCurrent()],
                             description=_l("At least 8 characters with letters and digits."))
    conf_password = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


class ResetMyPasswordView(FabResetMyPasswordView):
    """修改密码 (finding M3). FAB's own form view — its name keeps FAB's permissions and address —
    with the current password and the password rule; the change ends every other session (M2)."""

    form = ChangePasswordForm
    form_title = _l("Change password")
    message = _l("Password changed. Your other sessions were logged out.")

    def form_post(self, form):
        self.appbuilder.sm.change_own_password(g.user, form.current_password.data, form.password.data)
        flash(str(self.message), "success")


def _api_refusal(status: int, reason: str):
    """The app's one JSON error shape (app/views/edge.py, app/errors.py)."""
    response = jsonify(status="error", reason=str(reason), request_id=request_id())
    response.status_code = status
    return response


class CourtSecurityApi(SecurityApi):
    """`/api/v1/security/login` and `/refresh`, with the portal, the limits and the session generation.

    Refusals in the app's JSON error shape with a Chinese reason: 400 (no JSON object, no portal), 401
    (wrong account or password), 403 (no identity on that portal), 429 (too many failures, raised as
    `LoginLocked` and answered by app/errors.py).
    """

    @expose("/login", methods=["POST"])
    def login(self):
        body = request.get_json(silent=True) if request.is_json else None
        username, password, portal = ((body.get("username"), body.get("password"), body.get("portal"))
                                      if isinstance(body, dict) else (None, None, None))
        if not isinstance(username, str) or not isinstance(password, str) or portal not in Portal.__members__:
            return _api_refusal(400, _("Send a JSON object with username, password and portal."))
        if body.get("provider", "db") != "db":
            return _api_refusal(400, _("Only the platform's own accounts log in here."))
        user = authenticate(login_name(username), password)
        if not user:
            return _api_refusal(401, _("Wrong account or password."))
        refusal = portal_refusal(user, Portal[portal])
        if refusal:
            return _api_refusal(403, refusal)
        claims = {"portal": portal, "gen": sessions.generation(user.id)}
        tokens = {API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(identity=str(user.id), fresh=True,
                                                                     additional_claims=claims)}
        if body.get("refresh"):
            tokens[API_SECURITY_REFRESH_TOKEN_KEY] = create_refresh_token(identity=str(user.id),
                                                                          additional_claims=claims)
        return self.response(200, **tokens)

    @expose("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    def refresh(self):
        """A new access token for the same portal; none once the account's sessions ended."""
        claims = get_jwt()
        user = self.appbuilder.sm.get_user_by_id(int(get_jwt_identity()))
        if user is None or not user.is_active or not sessions.is_current(user.id, claims.get("gen")):
            return _api_refusal(401, _("Wrong account or password."))
        token = create_access_token(identity=get_jwt_identity(), fresh=False,
                                    additional_claims={"portal": claims.get("portal"), "gen": claims.get("gen")})
        return self.response(200, **{API_SECURITY_ACCESS_TOKEN_KEY: token})


class CourtSecurityManager(SecurityManager):
    authdbview = PortalAuthView
    userdbmodelview = fab_admin.UserDBModelView
    rolemodelview = fab_admin.RoleModelView
    resetmypasswordview = ResetMyPasswordView
    security_api = CourtSecurityApi

    def __init__(self, appbuilder):
        #: (roles, security version) -> permissions, for this app in this process
        self.permission_cache = permission_cache.Cache()
        #: (permission key, portal, language, script root) -> the sidebar (app/menu.py)
        self.menu_cache = permission_cache.Cache()
        super().__init__(appbuilder)

    def load_user(self, pk):
        """The session's account, unless its sessions ended since this one was stamped (M2).

        One statement for what every request reads first: the account with its roles and groups, its
        session generation and the security version (app/permission_cache.py) — five round trips
        before, a fixed cost of every page."""
        if not has_request_context():
            return super().load_user(pk)
        user_model = self.user_model
        stmt = (sa.select(user_model, sessions.generation_of(user_model.id), permission_cache.newest_token())
                .where(user_model.id == int(pk))
                .options(sa.orm.joinedload(user_model.roles), sa.orm.joinedload(user_model.groups)))
        row = self.session.execute(stmt).unique().one_or_none()
        if row is None:
            return None
        user, current, token = row
        permission_cache.remember(token)
        if not user.is_active or not sessions.matches(session.get(sessions.GENERATION_KEY), current):
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        """An API token's account, unless its sessions ended since the token was issued (M2)."""
        user = self.get_user_by_id(int(jwt_data["sub"]))
        if user is None or not user.is_active or not sessions.is_current(user.id, jwt_data.get("gen")):
            return None
        g.user = user
        return user

    def on_user_logout(self, user) -> None:
        """Every session of the account ends; committed here, as FAB's own account updates are."""
        sessions.end_sessions(user.id)
        db.session.commit()

    def reset_password(self, userid, password):
        """FAB's password reset (the platform admin's 重置密码): every session of the account ends too."""
        sessions.end_sessions(int(userid))
        super().reset_password(userid, password)

    def change_own_password(self, user, current: str, new_password: str) -> None:
        """修改密码: app.workflows.accounts.change_password, committed as FAB's form view commits; this
        session is stamped again and stays logged in."""
        change_password(user, current, new_password)  # the form's validators checked what it refuses
        self.update_user(user)
        sessions.stamp(user.id)

    def get_user_roles(self, user):
        roles = super().get_user_roles(user)
        portal = active_portal() if user.is_authenticated else None
        if portal is None:
            return roles
        allowed = set(portal.roles)
        return [r for r in roles if r.name in allowed]

    def has_access(self, permission_name: str, view_name: str) -> bool:
        """FAB's answer, remembered for the rest of the request (a list page asks ~50 times)."""
        if not has_request_context():
            return super().has_access(permission_name, view_name)
        user_id = getattr(g.get("user"), "id", None)  # an id: g.user may be a proxy, never the same object
        memo = g.get("_access")
        if memo is None or memo[0] != user_id:
            memo = g._access = (user_id, {})
        key = (permission_name, view_name)
        answer = memo[1].get(key)
        if answer is None:
            answer = memo[1][key] = super().has_access(permission_name, view_name)
        return answer

    def permission_key(self, user) -> tuple:
        """What the user's permissions depend on: the acting roles and the security version."""
        roles = tuple(sorted(r.id for r in self.get_user_roles(user)))
        return roles, permission_cache.token(self.session)

    def permissions_of(self, user) -> frozenset:
        """The user's (permission, view) pairs: once per request, from the process cache when the
        roles and the security version are the ones it was computed for (app/permission_cache.py)."""
        memo = g.get("_permissions")
        if memo is not None and memo[0] == user.id:
            return memo[2]
        key = self.permission_key(user)
        perms = self.permission_cache.get(key)
        if perms is None:
            perms = self.permission_cache.put(key, frozenset(self.get_user_permissions(user)))
        g._permissions = (user.id, key, perms)
        return perms

    def current_permission_key(self):
        """The acting user's `permission_key` (None when nobody is logged in)."""
        user = g.get("user")
        if user is None or not user.is_authenticated:
            return None
        self.permissions_of(user)
        return g._permissions[1]

    def _has_view_access(self, user, permission_name, view_name) -> bool:
        if not has_request_context():
            return super()._has_view_access(user, permission_name, view_name)
        return (permission_name, view_name) in self.permissions_of(user)
