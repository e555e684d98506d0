"""部委端 (组织管理, 名册管理 › 申请法院认证), the court's 特邀调解组织认证, and the public 调解资源 page.

Ministry accounts see only their ministry's organisations in their region
[FAQ 6.1, 6.7]; 调解资源 is public [FAQ 6.4].
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..enums import CertificationStatus
from ..extensions import db
from ..models import Court, Ministry, Organisation, OrganisationCourt
from ..security import current_scope
from ..workflows import ministry
from .base import Button, ScopedModelView, interface, run_step
from .roster import ORG_LABELS


def ministry_scoped(fn):
    def apply(query):
        scope = current_scope()
        if scope.is_platform:
            return query
        if scope.ministry_id is None:
            return query.filter(sa.false())
        return fn(query, scope)

    return apply


class MinistryOrganisationView(ScopedModelView):
    """组织管理 › 调解组织管理 and 名册管理 › 调解组织名册: my ministry's organisations in my region."""

    route_base = "/ministry/organisations"
    datamodel = interface(Organisation)
    list_title = _l("Mediation organisation management")
    show_title = _l("Mediation organisation")
    base_permissions = ["can_list", "can_show", "can_unbind", "can_apply", "can_password"]
    list_columns = ["name", "credit_code", "org_type", "province", "city", "contact_name", "contact_phone"]
    show_columns = list_columns + ["address", "ministry"]
    search_columns = ["name", "credit_code", "city"]
    base_order = ("name", "asc")
    label_columns = ORG_LABELS
    scope_wrapper = staticmethod(ministry_scoped)
    show_template = "court/ministry_org_show.html"

    @staticmethod
    def scope_query(query, scope):
        return ministry.in_region(query.filter(Organisation.ministry_id == scope.ministry_id), scope)

    def toolbar_buttons(self):
        if request.endpoint == f"{self.endpoint}.list" and self.appbuilder.sm.has_access(
                "can_index", "BindOrganisationView"):
            return [Button(_("Bind mediation organisation"), url_for("BindOrganisationView.index"))]
        return []

    @expose("/unbind/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("unbind")
    def unbind(self, pk):
        org = self.get_scoped(pk)
        run_step(ministry.unbind, org, current_scope(), success=_("Unbound."))
        return redirect(url_for(".list"))

    @expose("/password/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("password")
    def password(self, pk):
        """Other ministries' organisations: reset by the provincial ministry account [FAQ 6.2(2)]."""
        return _ministry_password(self, pk)

    @expose("/apply/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("apply")
    def apply(self, pk):
        """名册管理 › 调解组织名册管理 › 调解组织名册 › 申请法院认证 (court + note)."""
        org = self.get_scoped(pk)
        if request.method == "POST":
            court = db.session.get(Court, request.form.get("court_id", type=int) or 0)
            if run_step(ministry.apply_certification, org, court, request.form.get("note"), current_scope(),
                    success=_("Application sent to the court.")) is not None:
                return redirect(url_for(".show", pk=pk))
        courts = db.session.scalars(sa.select(Court).order_by(Court.code)).all()
        links = db.session.scalars(sa.select(OrganisationCourt).where(OrganisationCourt.organisation_id == org.id)).all()
        return self.render_template("court/ministry_apply.html", title=_("Apply for court certification"), org=org,
                                    courts=courts, links=links, form=request.form)


def _ministry_password(view, pk):
    org = view.get_scoped(pk)
    return _password_page(view, org, by_platform=False, back=url_for(f"{view.endpoint}.show", pk=pk))


class BindOrganisationView(BaseView):
    """组织管理 › 调解组织管理 › 绑定调解组织 [FAQ 6.1]."""

    route_base = "/ministry/bind"
    default_view = "index"

    def _scope(self):
        scope = current_scope()
        if scope.ministry_id is None:
            abort(403)
        return scope

    @expose("/")
    @has_access
    def index(self):
        scope = self._scope()
        q = (request.args.get("q") or "").strip()
        query = ministry.in_region(sa.select(Organisation), scope).where(
            sa.or_(Organisation.ministry_id.is_(None), Organisation.ministry_id != scope.ministry_id))
        if q:
            query = query.where(Organisation.name.contains(q))
        orgs = db.session.scalars(query.order_by(Organisation.name).limit(200)).all()
        return self.render_template("court/ministry_bind.html", title=_("Bind mediation organisation"), orgs=orgs,
                                    q=q, ministry=db.session.get(Ministry, scope.ministry_id))

    @expose("/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("bind")
    def bind(self, pk):
        scope = self._scope()
        org = db.session.get(Organisation, pk)
        if org is None:
            abort(404)
        run_step(ministry.bind, org, scope, success=_("Bound to your ministry."))
        return redirect(url_for(".index"))


class OrganisationCertificationView(ScopedModelView):
    """名册管理 › 特邀调解组织名册管理 › 特邀调解组织认证, by ministry, 待认证 / 已认证 / 已驳回 [FAQ 6.7]."""

    route_base = "/organisation-certifications"
    datamodel = interface(OrganisationCourt)
    list_title = _l("Invited organisation certification")
    show_title = _l("Certification application")
    base_permissions = ["can_list", "can_show", "can_approve", "can_reject"]
    list_columns = ["organisation.ministry", "organisation", "status", "note", "applied_at", "decided_at",
                    "reject_reason"]
    show_columns = ["court", "organisation", "status", "note", "applied_at", "decided_at", "reject_reason"]
    search_columns = ["status", "organisation"]
    base_order = ("applied_at", "desc")
    label_columns = {
        "court": _l("Court"),
        "organisation": _l("Mediation organisation"),
        "organisation.ministry": _l("Ministry"),
        "status": _l("Status"),
        "note": _l("Note"),
        "applied_at": _l("Applied on"),
        "decided_at": _l("Decided on"),
        "reject_reason": _l("Reason for rejection"),
    }

    @staticmethod
    def scope_query(query, scope):
        return query.filter(OrganisationCourt.court_id == scope.court_id)

    def toolbar_buttons(self):
        if request.endpoint != f"{self.endpoint}.show":
            return []
        pk = request.view_args.get("pk")
        link = self.datamodel.get(pk, self._base_filters)
        if link is None or link.status is not CertificationStatus.PENDING:
            return []
        return [Button(_("Approve"), url_for(f"{self.endpoint}.approve", pk=pk), "btn-success", "post"),
                Button(_("Reject"), url_for(f"{self.endpoint}.reject", pk=pk), "btn-danger")]

    @expose("/approve/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("approve")
    def approve(self, pk):
        link = self.get_scoped(pk)
        run_step(ministry.decide, link, current_scope(), g.user.id, True, success=_("Certification approved."))
        return redirect(url_for(".show", pk=pk))

    @expose("/reject/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("reject")
    def reject(self, pk):
        link = self.get_scoped(pk)
        if request.method == "POST":
            if run_step(ministry.decide, link, current_scope(), g.user.id, False, request.form.get("reason"),
                    success=_("Certification rejected.")) is not None:
                return redirect(url_for(".show", pk=pk))
            link = self.get_scoped(pk)
        return self.render_template("court/reject.html", title=_("Reject certification"), link=link,
                                    applicant_label=_("Mediation organisation"), applicant=link.organisation,
                                    view_endpoint=self.endpoint,
                                    reason=request.form.get("reason", ""))


class ResourcesView(BaseView):
    """调解资源 (public): organisations by province and city with their ministry [FAQ 6.4]."""

    route_base = "/resources"
    default_view = "index"

    @expose("/")
    def index(self):
        q = (request.args.get("q") or "").strip()
        query = sa.select(Organisation)
        if q:
            like = f"%{q}%"
            query = query.where(sa.or_(Organisation.name.like(like), Organisation.province.like(like),
                                       Organisation.city.like(like)))
        orgs = db.session.scalars(query.order_by(Organisation.province, Organisation.city, Organisation.name)
                                  .limit(500)).all()
        regions: dict[tuple, dict] = {}
        for org in orgs:
            region = regions.setdefault((org.province, org.city or ""), {"orgs": [], "ministries": set()})
            region["orgs"].append(org)
            if org.ministry is not None:
                region["ministries"].add(org.ministry.name)
        return self.render_template("court/resources.html", title=_("Mediation resources"), regions=regions, q=q)


class OrganisationPasswordView(BaseView):
    """Organisation passwords [FAQ 6.2]: platform staff (工商联, with the work ID checked)."""

    route_base = "/org-passwords"

    @expose("/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("reset")
    def reset(self, pk):
        org = db.session.get(Organisation, pk)
        if org is None:
            abort(404)
        return _password_page(self, org, by_platform=True, back=url_for("OrganisationPasswordView.search"))

    @expose("/")
    @has_access
    @permission_name("reset")
    def search(self):
        q = (request.args.get("q") or "").strip()
        orgs = db.session.scalars(sa.select(Organisation).where(Organisation.name.contains(q))
                                  .order_by(Organisation.name).limit(50)).all() if q else []
        return self.render_template("court/org_password_search.html", title=_("Organisation passwords"),
                                    orgs=orgs, q=q)


def _password_page(view, org, by_platform: bool, back: str):
    if request.method == "POST":
        if run_step(ministry.reset_organisation_password, org, request.form.get("password", ""), by_platform,
                current_scope(), request.form.get("work_id"),
                success=_("Password set. The organisation logs in with its credit code.")) is not None:
            return redirect(back)
    return view.render_template("court/org_password.html", title=_("Reset organisation password"), org=org,
                                by_platform=by_platform, work_id=request.form.get("work_id", ""))
