"""调解组织端 (SPEC §1; FAQ 6.2, 3.2): the organisation's cases and 分派, its mediators, its password rule.

Who: the 调解组织 role through the organisation portal, and only for its own
organisation (`Scope.organisation_id`); every other role gets 403 from the
permission, a case of another organisation 404 (`load_visible_case`). Its
figures are 质效指标 (StatisticsView) limited to its cases by
`statistics.reach_for`.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ..extensions import db
from ..models import Organisation
from ..security import current_scope
from ..workflows import organisation_portal as org_portal
from .edge import edge
from .scope import current_actor, load_visible_case


def _organisation() -> Organisation:
    org_id = current_scope().organisation_id
    org = db.session.get(Organisation, org_id) if org_id else None
    if org is None:
        abort(403)
    return org


class OrganisationPortalView(BaseView):
    route_base = "/organisation"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        org = _organisation()
        actor = current_actor()
        cases = org_portal.cases_of(actor)
        return self.render_template(
            "court/organisation_index.html", title=_("Our cases"), org=org, cases=cases,
            actions={c.id: org_portal.available_dispatch(c, actor) for c in cases},
            password_rule=org_portal.password_rule(org))

    @expose("/case/<int:pk>/dispatch", methods=["GET"])
    @has_access
    @permission_name("dispatch")
    def dispatch(self, pk):
        org = _organisation()
        case = load_visible_case(pk)
        if not org_portal.available_dispatch(case, current_actor()):
            flash(_("This operation is not available for the case now."), "danger")
            return redirect(url_for(".index"))
        return self._dispatch_form(org, case)

    @expose("/case/<int:pk>/dispatch", methods=["POST"])
    @has_access
    @permission_name("dispatch")
    @edge(refused="_dispatch_refused")
    def dispatch_post(self, pk):
        _organisation()
        case = load_visible_case(pk)
        org_portal.dispatch(case, current_actor(), request.form.get("mediator_id", type=int),
                            request.form.get("version", type=int))
        flash(_("Case %(case)s was dispatched to %(name)s.", case=str(case), name=case.mediator.name), "success")
        return redirect(url_for(".index"))

    def _dispatch_refused(self, pk, exc):
        org = _organisation()
        case = load_visible_case(pk)
        if not org_portal.available_dispatch(case, current_actor()):
            return redirect(url_for(".index"))
        return self._dispatch_form(org, case)

    def _dispatch_form(self, org, case):
        return self.render_template("court/organisation_dispatch.html", title=_("Dispatch to a mediator"),
                                    org=org, case=case, candidates=org_portal.dispatch_candidates(org, case),
                                    chosen=request.form.get("mediator_id", ""))

    @expose("/mediators", methods=["GET"])
    @has_access
    @permission_name("mediators")
    def mediators(self):
        return self._roster(_organisation(), {})

    @expose("/mediators", methods=["POST"])
    @has_access
    @permission_name("add_mediator")
    @edge(refused="_roster_refused")
    def add_mediator(self):
        _organisation()
        f = request.form
        mediator = org_portal.add_mediator(current_actor(), f.get("phone", ""), f.get("name", ""),
                                           f.get("id_number", ""), f.get("expertise", ""))
        flash(_("%(name)s was added; the initial password was sent by SMS. They now apply to courts under My "
                "settings › Certified courts.", name=mediator.name), "success")
        return redirect(url_for(".mediators"))

    def _roster_refused(self, exc):
        return self._roster(_organisation(), request.form)

    def _roster(self, org, form):
        return self.render_template("court/organisation_mediators.html", title=_("Our mediators"), org=org,
                                    mediators=org_portal.mediators_of(org), form=form,
                                    can_add=self.appbuilder.sm.has_access("can_add_mediator",
                                                                          self.class_permission_name))
