"""名册管理: mediator and organisation rosters and their certification by the court [FAQ 2.2–2.4, 3.2, 6.7].

A court's roster is the mediators (organisations) it has certified. Mediators
are platform-wide: adding a phone that is already a mediator is refused with
the FAQ's explanation, and the mediator applies to this court instead.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.urltools import get_filter_args
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from .. import xlsx
from ..enums import CertificationStatus, MediatorIdentity
from ..forms import MEDIATOR_EXISTS_MESSAGE, CreditCode, Mobile, ResidentId, UniqueValue
from ..models import Mediator, MediatorCourt, Organisation, OrganisationCourt
from ..workflows import Conflict, certification, rosters
from .base import Button, ScopedModelView, ScopeFilter, interface, scoped
from .scope import current_actor
from .edge import edge


def certified_mediators(query, scope):
    return query.filter(
        Mediator.id.in_(
            sa.select(MediatorCourt.mediator_id).where(
                MediatorCourt.court_id == scope.court_id,
                MediatorCourt.status == CertificationStatus.CERTIFIED,
            )
        )
    )


def certified_organisations(query, scope):
    return query.filter(
        Organisation.id.in_(
            sa.select(OrganisationCourt.organisation_id).where(
                OrganisationCourt.court_id == scope.court_id,
                OrganisationCourt.status == CertificationStatus.CERTIFIED,
            )
        )
    )


MEDIATOR_LABELS = {
    "name": _l("Name"),
    "phone": _l("Mobile number"),
    "id_number": _l("ID number"),
    "identity": _l("Identity"),
    "organisation": _l("Organisation"),
    "expertise": _l("Expertise"),
    # the public profile (Rules art 5)
    "scope_of_work": _l("Scope of work"),
    "charges": _l("Charges a fee"),
    "created_at": _l("Registered on"),
}


#: at most this many rows in one roster export (a court's roster is hundreds)
ROSTER_EXPORT_LIMIT = 10_000


class FilteredExport:
    """名册 › 导出: the list as it is filtered now, every page of it, without ticking rows
    (FAB's action exports only the ticked rows). The same scope as the list (base filters)."""

    def toolbar_buttons(self):
        buttons = super().toolbar_buttons()
        if request.endpoint == f"{self.endpoint}.list" and self.appbuilder.sm.has_access(
                "can_export", self.class_permission_name):
            buttons.append(Button(_("Export"), url_for(f"{self.endpoint}.export_filtered", **request.args),
                                  "btn-default"))
        return buttons

    @expose("/export")
    @has_access
    @permission_name("export")
    def export_filtered(self):
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        joined = self._filters.get_joined_filters(self._base_filters)
        order_column, order_direction = self.base_order
        _count, items = self.datamodel.query(joined, order_column, order_direction, page=0,
                                             page_size=ROSTER_EXPORT_LIMIT)
        return self.export_excel(list(items))


class _MediatorRosterView(FilteredExport, ScopedModelView):
    datamodel = interface(Mediator)
    list_columns = ["name", "phone", "identity", "organisation", "expertise"]
    show_columns = ["name", "phone", "id_number", "identity", "organisation", "expertise", "scope_of_work",
                    "charges", "created_at"]
    add_columns = ["name", "phone", "id_number", "identity", "organisation", "expertise", "scope_of_work"]
    edit_columns = add_columns
    search_columns = ["name", "phone", "expertise"]
    order_columns = ["name", "phone"]
    base_order = ("id", "asc")
    label_columns = MEDIATOR_LABELS
    validators_columns = {
        "phone": [Mobile(), UniqueValue(Mediator.phone, MEDIATOR_EXISTS_MESSAGE)],
        "id_number": [ResidentId()],
    }
    add_form_query_rel_fields = {"organisation": [["id", ScopeFilter, scoped(certified_organisations)]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    method_permission_name = {"export_excel": "export"}
    identities: list[MediatorIdentity] = []
    add_button_label = _l("Add mediator")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        choices = [(i.name, i.value) for i in self.identities]
        identity = SelectField(_l("Identity"), choices=choices, coerce=str, widget=Select2Widget())
        self.add_form.identity = identity
        self.edit_form.identity = identity

    def process_form(self, form, is_created):
        form.identity.data = MediatorIdentity[form.identity.data]

    def prefill_form(self, form, pk):
        form.identity.data = self.get_scoped(pk).identity.name

    def pre_add(self, item):
        rosters.add_mediator(item, current_actor())

    def pre_update(self, item):
        history = sa.inspect(item).attrs.phone.history
        old_phone = history.deleted[0] if history.deleted else item.phone
        rosters.update_mediator(item, old_phone)

    @action("export_excel", _l("Export to Excel"), None, "fa-file-excel-o", single=False)
    def export_excel(self, items):
        if not isinstance(items, list):
            items = [items]
        headers = [str(MEDIATOR_LABELS[c]) for c in ["name", "phone", "identity", "organisation", "expertise"]]
        rows = [[m.name, m.phone, m.identity.label, m.organisation, m.expertise] for m in items]
        return xlsx.response(xlsx.table(str(self.list_title), headers, rows), f"{self.list_title}.xlsx")


class InvitedMediatorView(_MediatorRosterView):
    route_base = "/mediators/invited"
    list_title = _l("Invited mediator roster")
    show_title = _l("Invited mediator")
    add_title = _l("Add mediator")
    edit_title = _l("Edit mediator")
    identities = [MediatorIdentity.INVITED]

    @staticmethod
    def scope_query(query, scope):
        return certified_mediators(query, scope).filter(Mediator.identity == MediatorIdentity.INVITED)


class OtherMediatorView(_MediatorRosterView):
    """Judges and other mediators form the 其他调解员 roster [FAQ 2.2 注]."""

    route_base = "/mediators/other"
    list_title = _l("Other mediator roster")
    show_title = _l("Other mediator")
    add_title = _l("Add mediator")
    edit_title = _l("Edit mediator")
    identities = [MediatorIdentity.JUDGE, MediatorIdentity.OTHER]

    @staticmethod
    def scope_query(query, scope):
        return certified_mediators(query, scope).filter(Mediator.identity != MediatorIdentity.INVITED)


ORG_LABELS = {
    "name": _l("Organisation name"),
    "credit_code": _l("Unified social credit code"),
    "org_type": _l("Organisation type"),
    "province": _l("Province"),
    "city": _l("City"),
    "address": _l("Address"),
    "contact_name": _l("Contact person"),
    "contact_phone": _l("Contact mobile number"),
    "ministry": _l("Bound ministry"),
}

ORG_EXISTS_MESSAGE = _l(
    "An organisation with this unified social credit code is already registered on the platform. "
    "It joins this court's roster through certification."
)


class OrganisationRosterView(FilteredExport, ScopedModelView):
    route_base = "/organisations"
    datamodel = interface(Organisation)
    list_title = _l("Invited organisation roster")
    show_title = _l("Invited organisation")
    add_title = _l("Add organisation")
    add_button_label = add_title
    edit_title = _l("Edit organisation")
    list_columns = ["name", "credit_code", "org_type", "city", "contact_name", "contact_phone", "ministry"]
    show_columns = ["name", "credit_code", "org_type", "province", "city", "address", "contact_name",
                    "contact_phone", "ministry"]
    add_columns = ["name", "credit_code", "org_type", "province", "city", "address", "contact_name",
                   "contact_phone"]
    edit_columns = add_columns
    search_columns = ["name", "credit_code", "contact_name"]
    base_order = ("id", "asc")
    label_columns = ORG_LABELS
    validators_columns = {
        "credit_code": [CreditCode(), UniqueValue(Organisation.credit_code, ORG_EXISTS_MESSAGE)],
        "contact_phone": [Mobile()],
    }
    method_permission_name = {"export_excel": "export"}

    @staticmethod
    def scope_query(query, scope):
        return certified_organisations(query, scope)

    def pre_add(self, item):
        rosters.add_organisation(item, current_actor())

    @action("export_excel", _l("Export to Excel"), None, "fa-file-excel-o", single=False)
    def export_excel(self, items):
        if not isinstance(items, list):
            items = [items]
        cols = ["name", "credit_code", "org_type", "city", "contact_name", "contact_phone", "ministry"]
        rows = [[getattr(o, c) for c in cols] for o in items]
        rows = [[r[0], r[1], r[2].label, r[3], r[4], r[5], r[6]] for r in rows]
        data = xlsx.table(str(self.list_title), [str(ORG_LABELS[c]) for c in cols], rows)
        return xlsx.response(data, f"{self.list_title}.xlsx")


class CertificationDecisionView(ScopedModelView):
    """Applications made to this court, decided by its admin: 通过 / 驳回 with a reason [FAQ 3.2, 6.7(2)].

    The buttons are `certification.available`; each posts the version it was
    shown with, so a second decision on a stale page is a conflict.
    """

    base_permissions = ["can_list", "can_show", "can_approve", "can_reject"]
    #: what the applicant is called on the reject form, and where the link keeps it
    applicant_label = _l("Applicant")
    applicant_attr = ""

    def toolbar_buttons(self):
        if request.endpoint != f"{self.endpoint}.show":
            return []
        pk = request.view_args.get("pk")
        link = self.datamodel.get(pk, self._base_filters)
        if link is None:
            return []
        return [Button(a.label, url_for(f"{self.endpoint}.{a.event}", pk=pk, version=link.version), a.css,
                       "get" if a.fields else "post")
                for a in certification.available(link, current_actor())]

    @expose("/approve/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("approve")
    @edge(refused="_to_show")
    def approve(self, pk):
        link = self.get_scoped(pk)
        certification.apply(link, "approve", current_actor(), expected_version=request.values.get("version", type=int))
        flash(_("Certification approved."), "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))

    @expose("/reject/<int:pk>", methods=["GET"])
    @has_access
    @permission_name("reject")
    def reject(self, pk):
        link = self.get_scoped(pk)
        return self._reject_form(link, request.args.get("version", link.version, type=int), "")

    @expose("/reject/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("reject")
    @edge(refused="_reject_refused")
    def reject_post(self, pk):
        link = self.get_scoped(pk)
        certification.apply(link, "reject", current_actor(), expected_version=request.form.get("version", type=int),
                            reason=request.form.get("reason", ""))
        flash(_("Certification rejected."), "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))

    def _to_show(self, pk, exc):
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))

    def _reject_refused(self, pk, exc):
        link = self.get_scoped(pk)
        if isinstance(exc, Conflict) or not any(a.event == "reject"
                                                for a in certification.available(link, current_actor())):
            return self._to_show(pk, exc)
        return self._reject_form(link, request.form.get("version", type=int), request.form.get("reason", ""))

    def _reject_form(self, link, version, reason):
        return self.render_template("court/reject.html", title=_("Reject certification"), link=link,
                                    applicant_label=self.applicant_label,
                                    applicant=getattr(link, self.applicant_attr), view_endpoint=self.endpoint,
                                    version=version, reason=reason)


class MediatorCertificationView(CertificationDecisionView):
    """特邀调解员认证: the court admin decides applications made to this court [FAQ 3.2]."""

    route_base = "/mediator-certifications"
    datamodel = interface(MediatorCourt)
    list_title = _l("Mediator certification")
    show_title = _l("Certification application")
    list_columns = ["mediator", "mediator.phone", "status", "note_text", "applied_at", "decided_at", "reject_reason"]
    show_columns = ["court", "mediator", "status", "note_text", "applied_at", "decided_at", "reject_reason"]
    search_columns = ["status"]
    base_order = ("applied_at", "desc")
    label_columns = {
        "court": _l("Court"),
        "mediator": _l("Mediator"),
        "mediator.phone": _l("Mobile number"),
        "status": _l("Status"),
        "note_text": _l("Note"),
        "applied_at": _l("Applied on"),
        "decided_at": _l("Decided on"),
        "reject_reason": _l("Reason for rejection"),
    }
    applicant_label = _l("Mediator")
    applicant_attr = "mediator"

    @staticmethod
    def scope_query(query, scope):
        return query.filter(MediatorCourt.court_id == scope.court_id)
