"""部委端 (组织管理, 名册管理 › 申请法院认证), the court's 特邀调解组织认证, and the public 调解资源 page.

Ministry accounts see only their ministry's organisations in their region
[FAQ 6.1, 6.7]; 调解资源 is public [FAQ 6.4].
"""
from __future__ import annotations

import sqlalchemy as sa
from markupsafe import Markup
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..enums import CertificationStatus
from ..extensions import db
from ..models import Court, Ministry, Organisation, OrganisationCourt
from ..security import current_scope
from ..workflows import certification, ministry
from .base import Button, ScopedModelView, interface
from .scope import current_actor
from .edge import edge
from .roster import ORG_LABELS, CertificationDecisionView


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
    list_columns = ["name", "credit_code", "org_type", "province", "city", "contact_name", "contact_phone", "id"]
    show_columns = list_columns[:-1] + ["address", "ministry"]
    search_columns = ["name", "credit_code", "city"]
    base_order = ("name", "asc")
    label_columns = {**ORG_LABELS, "id": _l("Operation")}
    scope_wrapper = staticmethod(ministry_scoped)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # [FAQ 6.7(1)] 调解组织名册: 申请法院认证 on the right of each organisation that may apply
        self.formatters_columns = {**self.formatters_columns, "id": self._row_buttons}

    def _row_buttons(self, pk):
        org = db.session.get(Organisation, pk)
        if org is None or not self.appbuilder.sm.has_access("can_apply", self.class_permission_name):
            return ""
        if not certification.may_apply(org, current_actor()):
            return ""
        return Markup('<a class="btn btn-xs btn-primary" href="{}">{}</a>').format(
            url_for(".apply", pk=org.id), _("Apply for court certification"))

    @staticmethod
    def scope_query(query, scope):
        return ministry.in_region(query.filter(Organisation.ministry_id == scope.ministry_id), scope)

    def toolbar_buttons(self):
        if request.endpoint == f"{self.endpoint}.list" and self.appbuilder.sm.has_access(
                "can_index", "BindOrganisationView"):
            return [Button(_("Bind mediation organisation"), url_for("BindOrganisationView.index"))]
        if request.endpoint != f"{self.endpoint}.show":
            return []
        org = self.datamodel.get(request.view_args.get("pk"), self._base_filters)
        if org is None:
            return []
        actor = current_actor()
        buttons = []
        if certification.may_apply(org, actor):
            buttons.append(Button(_("Apply for court certification"), url_for(".apply", pk=org.id)))
        if not ministry.password_refusals(org, actor):
            buttons.append(Button(_("Reset organisation password"), url_for(".password", pk=org.id), "btn-default"))
        if not ministry.binding_refusals(org, "unbind", actor):
            buttons.append(Button(_("Unbind"), url_for(".unbind", pk=org.id), "btn-default", "post"))
        return buttons

    @expose("/unbind/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("unbind")
    @edge(refused="_to_list")
    def unbind(self, pk):
        ministry.unbind(self.get_scoped(pk), current_actor())
        flash(_("Unbound."), "success")
        return redirect(url_for(".list"))

    def _to_list(self, pk, exc):
        return redirect(url_for(".list"))

    @expose("/password/<int:pk>", methods=["GET"])
    @has_access
    @permission_name("password")
    def password(self, pk):
        """Other ministries' organisations: reset by the provincial ministry account [FAQ 6.2(2)]."""
        return _password_page(self, self.get_scoped(pk))

    @expose("/password/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("password")
    @edge(refused="_password_refused")
    def password_post(self, pk):
        return _reset_password(self.get_scoped(pk), url_for(".show", pk=pk))

    def _password_refused(self, pk, exc):
        return _password_page(self, self.get_scoped(pk))

    @expose("/apply/<int:pk>", methods=["GET"])
    @has_access
    @permission_name("apply")
    def apply(self, pk):
        """名册管理 › 调解组织名册管理 › 调解组织名册 › 申请法院认证 (court + note)."""
        return self._apply_form(pk)

    def _apply_form(self, pk, exc=None):
        org = self.get_scoped(pk)
        return self.render_template("court/ministry_apply.html", title=_("Apply for court certification"), org=org,
                                    courts=certification.courts_open_to(org, current_actor()),
                                    links=certification.links_of(org), form=request.form)

    @expose("/apply/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("apply")
    @edge(refused="_apply_form")
    def apply_post(self, pk):
        org = self.get_scoped(pk)
        court = db.session.get(Court, request.form.get("court_id", type=int) or 0)
        certification.apply_for(org, court, current_actor(), request.form.get("note"))
        flash(_("Application sent to the court."), "success")
        return redirect(url_for(".show", pk=pk))


class BindOrganisationView(BaseView):
    """组织管理 › 调解组织管理 › 绑定调解组织 [FAQ 6.1]; one bound elsewhere says so instead of a button."""

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
        actor = current_actor()
        q = (request.args.get("q") or "").strip()
        query = ministry.in_region(sa.select(Organisation), scope).where(
            sa.or_(Organisation.ministry_id.is_(None), Organisation.ministry_id != scope.ministry_id))
        if q:
            query = query.where(Organisation.name.contains(q))
        orgs = db.session.scalars(query.order_by(Organisation.name).limit(200)).all()
        rows = [(org, " ".join(ministry.binding_refusals(org, "bind", actor))) for org in orgs]
        return self.render_template("court/ministry_bind.html", title=_("Bind mediation organisation"), rows=rows,
                                    q=q, ministry=db.session.get(Ministry, scope.ministry_id))

    @expose("/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("bind")
    @edge(refused="_to_index")
    def bind(self, pk):
        self._scope()
        org = db.session.get(Organisation, pk)
        if org is None:
            abort(404)
        ministry.bind(org, current_actor())
        flash(_("Bound to your ministry."), "success")
        return redirect(url_for(".index"))

    def _to_index(self, pk, exc):
        return redirect(url_for(".index"))


class OrganisationCertificationView(CertificationDecisionView):
    """名册管理 › 特邀调解组织名册管理 › 特邀调解组织认证, by ministry, 待认证 / 已认证 / 已驳回 [FAQ 6.7]."""

    route_base = "/organisation-certifications"
    datamodel = interface(OrganisationCourt)
    list_title = _l("Invited organisation certification")
    show_title = _l("Certification application")
    list_columns = ["organisation.ministry", "organisation", "status", "note_text", "applied_at", "decided_at",
                    "reject_reason"]
    show_columns = ["court", "organisation", "status", "note_text", "applied_at", "decided_at", "reject_reason"]
    search_columns = ["status", "organisation"]
    base_order = ("applied_at", "desc")
    label_columns = {
        "court": _l("Court"),
        "organisation": _l("Mediation organisation"),
        "organisation.ministry": _l("Ministry"),
        "status": _l("Status"),
        "note_text": _l("Note"),
        "applied_at": _l("Applied on"),
        "decided_at": _l("Decided on"),
        "reject_reason": _l("Reason for rejection"),
    }
    applicant_label = _l("Mediation organisation")
    applicant_attr = "organisation"

    @staticmethod
    def scope_query(query, scope):
        query = query.filter(OrganisationCourt.court_id == scope.court_id)
        ministry_id = request.args.get("ministry", type=int) if request.endpoint.endswith(".list") else None
        if ministry_id:
            query = query.filter(OrganisationCourt.organisation_id.in_(
                sa.select(Organisation.id).where(Organisation.ministry_id == ministry_id)))
        return query

    def toolbar_buttons(self):
        """[FAQ 6.7(2)] 特邀调解组织认证 › 【中华全国工商联】(one tab per ministry) › 【待认证】 (by status)."""
        if request.endpoint != f"{self.endpoint}.list":
            return super().toolbar_buttons()
        chosen = request.args.get("ministry", type=int)
        status = request.args.get("_flt_0_status")
        tabs = [Button(m.name, url_for(".list", ministry=m.id), "btn-primary" if m.id == chosen else "btn-default")
                for m in db.session.scalars(sa.select(Ministry).order_by(Ministry.sort_order, Ministry.id))]
        if chosen:
            tabs += [Button(s.label, url_for(".list", ministry=chosen, _flt_0_status=s.name),
                            "btn-info" if s.name == status else "btn-default") for s in CertificationStatus]
        return tabs


class ResourcesView(BaseView):
    """调解资源 (public): organisations by province and city with their ministry [FAQ 6.4]."""

    route_base = "/resources"
    default_view = "index"

    @expose("/")
    def index(self):
        """Search by name, region or ministry; each region's 已开通部委 counts every organisation of the
        region, not only the ones the search found."""
        q = (request.args.get("q") or "").strip()
        ministries = db.session.scalars(sa.select(Ministry).order_by(Ministry.sort_order, Ministry.id)).all()
        code = (request.args.get("ministry") or "").strip()
        chosen = next((m for m in ministries if m.code == code), None)
        problem = _("Unknown ministry: choose one from the list.") if code and chosen is None else None
        query = sa.select(Organisation)
        if q:
            like = f"%{q}%"
            query = query.where(sa.or_(Organisation.name.like(like), Organisation.province.like(like),
                                       Organisation.city.like(like),
                                       Organisation.ministry_id.in_(sa.select(Ministry.id)
                                                                    .where(Ministry.name.like(like)))))
        if chosen is not None:
            query = query.where(Organisation.ministry_id == chosen.id)
        orgs = [] if problem else db.session.scalars(
            query.order_by(Organisation.province, Organisation.city, Organisation.name).limit(500)).all()
        regions: dict[tuple, dict] = {}
        for org in orgs:
            region = regions.setdefault((org.province, org.city or ""), {"orgs": [], "ministries": set()})
            region["orgs"].append(org)
        if regions:
            opened = db.session.execute(
                sa.select(Organisation.province, Organisation.city, Ministry.name).distinct()
                .join(Ministry, Organisation.ministry_id == Ministry.id)
                .where(Organisation.province.in_({province for province, _city in regions}))).all()
            for province, city, name in opened:
                region = regions.get((province, city or ""))
                if region is not None:
                    region["ministries"].add(name)
        return self.render_template("court/resources.html", title=_("Mediation resources"), regions=regions, q=q,
                                    ministries=ministries, chosen=chosen, problem=problem)


class OrganisationPasswordView(BaseView):
    """Organisation passwords [FAQ 6.2]: platform staff (工商联, with the work ID checked)."""

    route_base = "/org-passwords"

    @expose("/<int:pk>", methods=["GET"])
    @has_access
    @permission_name("reset")
    def reset(self, pk):
        return _password_page(self, _organisation(pk))

    @expose("/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("reset")
    @edge(refused="_reset_refused")
    def reset_post(self, pk):
        return _reset_password(_organisation(pk), url_for("OrganisationPasswordView.search"))

    def _reset_refused(self, pk, exc):
        return _password_page(self, _organisation(pk))

    @expose("/")
    @has_access
    @permission_name("reset")
    def search(self):
        q = (request.args.get("q") or "").strip()
        orgs = db.session.scalars(sa.select(Organisation).where(Organisation.name.contains(q))
                                  .order_by(Organisation.name).limit(50)).all() if q else []
        actor = current_actor()
        rows = [(org, " ".join(ministry.password_refusals(org, actor))) for org in orgs]
        return self.render_template("court/org_password_search.html", title=_("Organisation passwords"),
                                    rows=rows, q=q)


def _organisation(pk) -> Organisation:
    org = db.session.get(Organisation, pk)
    if org is None:
        abort(404)
    return org


def _password_page(view, org):
    return view.render_template("court/org_password.html", title=_("Reset organisation password"), org=org,
                                by_platform=current_scope().is_platform, work_id=request.form.get("work_id", ""))


def _reset_password(org, back: str):
    ministry.reset_organisation_password(org, request.form.get("password", ""), current_actor(),
                                         request.form.get("work_id"))
    flash(_("Password set. The organisation logs in with its credit code."), "success")
    return redirect(back)
