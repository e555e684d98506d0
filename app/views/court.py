"""本院管理 and 诉源治理 screens: court users, tribunals, grassroots units.

Court admin only, own court only [FAQ 2.1, 7.1–7.3]. The platform admin sees
every court.
"""
from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Optional

from .. import xlsx
from ..forms import Mobile, StrongPassword, UniqueValue
from ..extensions import db
from ..models import Court, CourtStaff, GrassrootsUnit, ImportJob, Tribunal
from ..security import current_scope
from ..transactions import outside_transaction
from ..workflows import DomainError, bulk_import, rosters
from ..workflows.actor import actor_for
from .base import Button, ScopedModelView, ScopeFilter, interface, scoped
from .edge import edge

def own_courts(query, scope):
    return query.filter(Court.id == scope.court_id)


def own_staff(query, scope):
    return query.filter(CourtStaff.court_id == scope.court_id)


def own_tribunals(query, scope):
    return query.filter(Tribunal.court_id == scope.court_id)


COURT_CHOICES = {"court": [["id", ScopeFilter, scoped(own_courts)]]}

STAFF_PHONE_TAKEN = _l("This mobile number is already a court user.")


class CourtStaffView(ScopedModelView):
    route_base = "/court-users"
    datamodel = interface(CourtStaff)
    list_title = _l("Court users")
    show_title = _l("Court user")
    add_title = _l("Add a single user")
    add_button_label = add_title
    edit_title = _l("Edit court user")
    list_columns = ["name", "phone", "position", "is_admin", "court", "created_at"]
    show_columns = ["court", "name", "phone", "position", "is_admin", "created_at"]
    add_columns = ["court", "name", "phone", "position", "is_admin"]
    edit_columns = ["name", "position", "is_admin"]
    search_columns = ["name", "phone", "position", "is_admin"]
    order_columns = ["name", "phone", "created_at"]
    base_order = ("id", "asc")
    label_columns = {
        "court": _l("Court"),
        "name": _l("Name"),
        "phone": _l("Mobile number (login)"),
        "position": _l("Position"),
        "is_admin": _l("Court administrator"),
        "created_at": _l("Added on"),
    }
    description_columns = {
        "phone": _l("The mobile number is the login; the initial password is sent to it by SMS."),
    }
    validators_columns = {"phone": [Mobile(), UniqueValue(CourtStaff.phone, STAFF_PHONE_TAKEN)]}
    # FAB makes every NOT NULL column required; an unticked box must stay valid.
    add_form_extra_fields = {"is_admin": BooleanField(_l("Court administrator"), default=False)}
    edit_form_extra_fields = add_form_extra_fields
    add_form_query_rel_fields = COURT_CHOICES

    @staticmethod
    def scope_query(query, scope):
        return own_staff(query, scope)

    def toolbar_buttons(self):
        buttons = super().toolbar_buttons()
        if request.endpoint == f"{self.endpoint}.list" and self.appbuilder.sm.has_access(
            "can_import", self.class_permission_name
        ):
            buttons.append(Button(_("Bulk import"), url_for(f"{self.endpoint}.bulk_import"), "btn-default"))
        return buttons

    def pre_add(self, item):
        rosters.add_court_staff(item, current_scope())

    def pre_update(self, item):
        rosters.sync_staff_roles(item, current_scope())

    def pre_delete(self, item):
        rosters.delete_court_staff(item, current_scope())

    @expose("/import", methods=["GET"])
    @has_access
    @permission_name("import")
    def bulk_import(self):
        return self._import_form()

    @expose("/import", methods=["POST"])
    @has_access
    @permission_name("import")
    @edge(refused="_import_refused")
    def bulk_import_post(self):
        """All or nothing [FAQ 2.1]: a refused file's problems are the edge's flashes, row by row.

        The file is read with no transaction held (issue 16 item 3) and checked here; a clean one is
        queued for the worker, which creates the users (issue 17 item 4)."""
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        actor = actor_for(g.user.id, current_scope())
        with outside_transaction():
            rows = bulk_import.read_rows(data)
        job = bulk_import.queue_import(rows, actor, upload.filename if upload else "")
        flash(_("The file was checked: %(n)d users are being imported.", n=job.total), "success")
        return redirect(url_for(f"{self.endpoint}.import_job", pk=job.id))

    def _own_import(self, pk):
        """A job of the acting administrator's court; any other is not found (never another court's)."""
        job = db.session.get(ImportJob, pk)
        scope = current_scope()
        if job is None or scope.court_id is None or job.court_id != scope.court_id:
            abort(404)
        return job

    @expose("/import/<int:pk>")
    @has_access
    @permission_name("import")
    def import_job(self, pk):
        job = self._own_import(pk)
        return self.render_template("court/import_job.html", title=_("Bulk import court users"), job=job,
                                    pending=bulk_import.job_pending(job), done=bulk_import.job_done(job),
                                    failed=bulk_import.job_failed(job),
                                    list_url=url_for(f"{self.endpoint}.list"),
                                    again_url=url_for(f"{self.endpoint}.bulk_import"))

    @expose("/import/<int:pk>/status")
    @has_access
    @permission_name("import")
    def import_status(self, pk):
        job = self._own_import(pk)
        return jsonify(status=job.status.value, label=str(job.status.label), done=job.done, total=job.total,
                       created=job.created, error="；".join(job.errors or []),
                       pending=bulk_import.job_pending(job))

    def _import_refused(self, exc):
        return self._import_form()

    def _import_form(self):
        return self.render_template("court/import.html", title=_("Bulk import court users"),
                                    template_url=url_for(f"{self.endpoint}.import_template"),
                                    columns=[str(c) for c in bulk_import.COLUMNS])

    @expose("/import/template")
    @has_access
    @permission_name("import")
    def import_template(self):
        return xlsx.response(bulk_import.template_bytes(), "本院用户导入模板.xlsx")


class TribunalView(ScopedModelView):
    route_base = "/tribunals"
    datamodel = interface(Tribunal)
    list_title = _l("People's court management")
    show_title = _l("People's tribunal")
    add_title = _l("Add people's tribunal")
    add_button_label = add_title
    edit_title = _l("Edit people's tribunal")
    list_columns = ["name", "court", "admin", "address", "phone"]
    show_columns = ["court", "name", "admin", "address", "phone"]
    add_columns = ["court", "name", "admin", "address", "phone"]
    edit_columns = ["name", "admin", "address", "phone"]
    search_columns = ["name", "address"]
    base_order = ("id", "asc")
    label_columns = {
        "court": _l("Court"),
        "name": _l("Tribunal name"),
        "admin": _l("Administrator"),
        "address": _l("Address"),
        "phone": _l("Telephone"),
    }
    description_columns = {
        "admin": _l("Choose one of the court's users. If the person is missing, add them under "
                    "Court management › Court users first."),
    }
    add_form_query_rel_fields = {
        **COURT_CHOICES,
        "admin": [["id", ScopeFilter, scoped(own_staff)]],
    }
    edit_form_query_rel_fields = {"admin": [["id", ScopeFilter, scoped(own_staff)]]}

    @staticmethod
    def scope_query(query, scope):
        return own_tribunals(query, scope)

    def pre_add(self, item):
        rosters.check_tribunal(item, current_scope())

    def pre_update(self, item):
        rosters.check_tribunal(item, current_scope())

    def pre_delete(self, item):
        rosters.check_tribunal_deletable(item)


LIAISON_PHONE_TAKEN = _l("This mobile number is already the liaison of another grassroots unit.")


class GrassrootsUnitView(ScopedModelView):
    route_base = "/grassroots-units"
    datamodel = interface(GrassrootsUnit)
    list_title = _l("Grassroots unit management")
    show_title = _l("Grassroots unit")
    add_title = _l("Add grassroots unit")
    add_button_label = add_title
    edit_title = _l("Edit grassroots unit")
    list_columns = ["name", "court", "tribunal", "liaison_name", "liaison_phone"]
    show_columns = ["court", "tribunal", "name", "address", "liaison_name", "liaison_phone"]
    add_columns = ["court", "tribunal", "name", "address", "liaison_name", "liaison_phone", "liaison_password"]
    edit_columns = ["tribunal", "name", "address", "liaison_name", "new_password"]
    search_columns = ["name", "liaison_name", "liaison_phone"]
    base_order = ("id", "asc")
    label_columns = {
        "court": _l("Court"),
        "tribunal": _l("People's tribunal"),
        "name": _l("Unit name"),
        "address": _l("Address"),
        "liaison_name": _l("Judicial liaison"),
        "liaison_phone": _l("Liaison mobile number (login)"),
        "liaison_password": _l("Liaison password"),
        "new_password": _l("New liaison password"),
    }
    description_columns = {
        "liaison_phone": _l("The liaison logs in to the grassroots portal with this number and password."),
        "new_password": _l("Leave empty to keep the current password."),
    }
    validators_columns = {
        "liaison_phone": [Mobile(), UniqueValue(GrassrootsUnit.liaison_phone, LIAISON_PHONE_TAKEN)],
    }
    add_form_extra_fields = {
        "liaison_password": PasswordField(_l("Liaison password"), validators=[DataRequired(), StrongPassword()]),
    }
    edit_form_extra_fields = {
        "new_password": PasswordField(_l("New liaison password"), validators=[Optional(), StrongPassword()]),
    }
    add_form_query_rel_fields = {
        **COURT_CHOICES,
        "tribunal": [["id", ScopeFilter, scoped(own_tribunals)]],
    }
    edit_form_query_rel_fields = {"tribunal": [["id", ScopeFilter, scoped(own_tribunals)]]}

    @staticmethod
    def scope_query(query, scope):
        return query.filter(GrassrootsUnit.court_id == scope.court_id)

    def pre_add(self, item):
        rosters.add_grassroots_unit(item, item.liaison_password, current_scope())

    def pre_update(self, item):
        if item.tribunal is not None and item.tribunal.court_id != item.court_id:
            raise DomainError(_("The tribunal belongs to another court."))
        if getattr(item, "new_password", None):
            rosters.set_liaison_password(item, item.new_password)

    def pre_delete(self, item):
        rosters.delete_grassroots_unit(item)
