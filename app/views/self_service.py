"""Public pages: 验证码登录 (and a party's or agent's registration by it), 调解员注册 [FAQ 1.2–1.4, 3.2].

Open to anyone (no login): the SMS code is the proof. The rules and what each
answer may reveal are app/workflows/self_service.py. A refusal re-renders the
form with what was typed; a limit answers 429 with its Chinese message.
"""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _

from ..roles import Portal
from ..security import remember_portal, remembered_portal, start_session
from ..workflows import TooMany, self_service
from ..workflows.self_service import REGISTERING_PORTALS, code_login_portals
from .edge import edge


def _portal_from_form() -> Portal:
    name = request.form.get("portal", "")
    return Portal[name] if name in Portal.__members__ else Portal.COURT


def _status(exc) -> int:
    return 429 if isinstance(exc, TooMany) else 200


class CodeLoginView(BaseView):
    """验证码登录 on every portal whose login is a phone; 当事人/代理人 register by it."""

    route_base = "/code-login"
    default_view = "form"

    @expose("/", methods=["GET"])
    def form(self):
        portal = remembered_portal()
        if portal not in code_login_portals():
            portal = Portal.COURT
        return self._page(portal, request.args.get("phone", ""))

    @expose("/send", methods=["POST"])
    @edge(refused="_refused")
    def send(self):
        portal = _portal_from_form()
        phone = request.form.get("phone", "")
        g.audit_actor_name = phone
        self_service.request_login_code(phone, portal, request.remote_addr)
        if portal in REGISTERING_PORTALS:
            flash(_("A verification code was sent to %(phone)s. It is valid for 5 minutes.", phone=phone.strip()),
                  "info")
        else:
            flash(_("If %(phone)s has a %(portal)s account, a verification code was sent to it.",
                    phone=phone.strip(), portal=portal.label), "info")
        return remember_portal(redirect(url_for(".form", portal=portal.name, phone=phone.strip())), portal)

    @expose("/", methods=["POST"])
    @edge(refused="_refused")
    def login(self):
        portal = _portal_from_form()
        phone = request.form.get("phone", "")
        g.audit_actor_name = phone
        user, registered = self_service.login_by_code(phone, portal, request.form.get("code", ""))
        start_session(user, portal)
        if registered:
            flash(_("Registered and logged in as %(portal)s. Your password was sent by SMS; you can also log in "
                    "with a verification code.", portal=portal.label), "success")
        return remember_portal(redirect(self.appbuilder.get_url_for_index), portal)

    def _refused(self, exc):
        return self._page(_portal_from_form(), request.form.get("phone", "")), _status(exc)

    def _page(self, portal: Portal, phone: str):
        return self.render_template("court/code_login.html", title=_("Log in with a verification code"),
                                    portals=code_login_portals(), chosen=portal.name, phone=phone,
                                    registering=[p.name for p in REGISTERING_PORTALS])


class MediatorRegisterView(BaseView):
    """调解员端 › 注册: phone + code, name, ID number, expertise; then 申请认证 [FAQ 3.2]."""

    route_base = "/register/mediator"
    default_view = "form"

    @expose("/", methods=["GET"])
    def form(self):
        return self._page({"phone": request.args.get("phone", "")})

    @expose("/send", methods=["POST"])
    @edge(refused="_refused")
    def send(self):
        phone = request.form.get("phone", "")
        g.audit_actor_name = phone
        self_service.request_registration_code(phone, request.remote_addr)
        flash(_("A verification code was sent to %(phone)s. It is valid for 5 minutes.", phone=phone.strip()),
              "info")
        return self._page(request.form)

    @expose("/", methods=["POST"])
    @edge(refused="_refused")
    def register(self):
        f = request.form
        g.audit_actor_name = f.get("phone", "")
        user, _mediator = self_service.register_mediator(f.get("phone", ""), f.get("code", ""), f.get("name", ""),
                                                         f.get("id_number", ""), f.get("expertise", ""))
        start_session(user, Portal.MEDIATOR)
        flash(_("Registered as a mediator. Apply to the courts you mediate for: choose a court below."), "success")
        return remember_portal(redirect(url_for("MyCertificationView.list")), Portal.MEDIATOR)

    def _refused(self, exc):
        return self._page(request.form), _status(exc)

    def _page(self, form):
        return self.render_template("court/register_mediator.html", title=_("Mediator registration"), form=form)
