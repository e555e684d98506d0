"""平台后台: courts, ministries, SMS records and the audit trail.

Read-only where the data is evidence: SMS records and audit rows can be listed
and shown, never edited or deleted (not even by the platform admin).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from .. import outbox
from ..clock import today
from ..enums import OutboxStatus
from ..extensions import db
from ..models import AuditLog, Case, Court, Holiday, Ministry, OutboxMessage, SmsOutbox
from ..workdays import OFFICIAL_YEARS
from . import records
from .base import Button, ScopedModelView, interface, scoped
from .edge import edge

READ_ONLY = ["can_list", "can_show"]


class CourtView(ScopedModelView):
    route_base = "/courts"
    datamodel = interface(Court)
    list_title = _l("Courts")
    show_title = _l("Court")
    add_title = _l("Add court")
    edit_title = _l("Edit court")
    list_columns = ["name", "code", "level", "parent", "province", "city"]
    show_columns = list_columns
    add_columns = list_columns
    edit_columns = list_columns
    search_columns = ["name", "code", "province", "city"]
    base_order = ("code", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    label_columns = {
        "name": _l("Court name"),
        "code": _l("Court code"),
        "level": _l("Court level"),
        "parent": _l("Parent court"),
        "province": _l("Province"),
        "city": _l("City"),
    }
    description_columns = {"code": _l("Used in case numbers, e.g. 京0105.")}

    @staticmethod
    def scope_query(query, scope):
        return query.filter(Court.id == scope.court_id)


class MinistryView(ScopedModelView):
    route_base = "/ministries"
    datamodel = interface(Ministry)
    list_title = _l("Ministries")
    show_title = _l("Ministry")
    # `code` is the interfaces' identifier (acfic, pbc …), not a name anyone reads
    list_columns = ["name", "certification_path"]
    show_columns = list_columns
    search_columns = ["name"]
    base_order = ("sort_order", "asc")
    base_permissions = READ_ONLY
    label_columns = {
        "name": _l("Ministry"),
        "code": _l("Code"),
        "certification_path": _l("Court certification path"),
    }

    @staticmethod
    def scope_query(query, scope):
        return query


class SmsOutboxView(ScopedModelView):
    route_base = "/sms"
    datamodel = interface(SmsOutbox)
    list_title = _l("SMS records")
    show_title = _l("SMS record")
    list_columns = ["created_at", "phone", "kind", "status", "body"]
    show_columns = ["created_at", "phone", "kind", "status", "sent_at", "body"]
    search_columns = ["phone", "created_at"]
    base_order = ("id", "desc")
    base_permissions = READ_ONLY
    label_columns = {
        "created_at": _l("Time (Beijing time)"),
        "phone": _l("Mobile number"),
        "kind": _l("Type"),
        "status": _l("Status"),
        "sent_at": _l("Sent at (Beijing time)"),
        "body": _l("Content"),
    }

    @staticmethod
    def scope_query(query, scope):
        # Platform staff only: a court sees no SMS records.
        return query.filter(SmsOutbox.id.is_(None))


class AuditInterface(SQLAInterface):
    """The audit rows with the columns the trail reads: names and labels computed from the stored codes."""

    COMPUTED = {
        "operator": records.actor_label,
        "object": lambda row: records.entity_label(row.entity),
        "operation": lambda row: (records.transition_event(row) if row.action.name == "TRANSITION"
                                  else row.action.label),
        "details": lambda row: records.details_text(row),
        "changes": records.changes_text,
    }

    def _get_attr_value(self, item, col):
        if col in self.COMPUTED:
            return self.COMPUTED[col](item)
        return super()._get_attr_value(item, col)


class AuditLogView(ScopedModelView):
    route_base = "/audit"
    datamodel = AuditInterface(AuditLog, db.session)
    list_title = _l("Audit trail")
    show_title = _l("Audit record")
    list_columns = ["at", "operator", "ip", "operation", "object", "entity_id", "details"]
    show_columns = ["at", "operator", "ip", "operation", "object", "entity_id", "details", "changes"]
    search_columns = ["actor_name", "at"]
    base_order = ("id", "desc")
    base_permissions = READ_ONLY
    label_columns = {
        "at": _l("Time (Beijing time)"),
        "operator": _l("Operator"),
        "actor_name": _l("Operator account"),
        "ip": _l("IP address"),
        "operation": _l("Operation"),
        "object": _l("Object"),
        "entity_id": _l("Object ID"),
        "details": _l("Details"),
        "changes": _l("Changed fields"),
    }

    @staticmethod
    def scope_query(query, scope):
        return query.filter(AuditLog.court_id == scope.court_id)


class HolidayView(ScopedModelView):
    """节假日: the admin's overrides of the official calendar the working-day clocks use."""

    route_base = "/holidays"
    datamodel = interface(Holiday)
    list_title = _l("Holidays and workdays")
    show_title = _l("Calendar day")
    add_title = _l("Add calendar day")
    edit_title = _l("Edit calendar day")
    list_columns = ["day", "name", "is_workday"]
    show_columns = list_columns
    add_columns = list_columns
    edit_columns = list_columns
    search_columns = ["day", "name"]
    base_order = ("day", "desc")
    add_button_label = add_title
    list_note = _l(
        "The public holidays and 调休 workdays of %(first)s–%(last)s come from the State Council's "
        "calendar and need no entry; enter a day here to override it, or for a year it does not cover yet.",
        first=OFFICIAL_YEARS[0], last=OFFICIAL_YEARS[-1],
    )
    label_columns = {
        "day": _l("Date"),
        "name": _l("Name"),
        "is_workday": _l("Worked in lieu (调休上班)"),
    }
    add_form_extra_fields = {"is_workday": BooleanField(_l("Worked in lieu (调休上班)"), default=False)}
    edit_form_extra_fields = add_form_extra_fields

    @staticmethod
    def scope_query(query, scope):
        return query


class OutboxView(ScopedModelView):
    """平台后台 › 推送记录: every push to a ministry platform or court intranet with its delivery state
    and acknowledgement [FAQ 3.4, 3.6, 6.3, 6.5]."""

    route_base = "/pushes"
    datamodel = interface(OutboxMessage)
    list_title = _l("Push records")
    show_title = _l("Push record")
    base_permissions = ["can_list", "can_show", "can_resend"]
    list_columns = ["created_at", "topic", "ministry", "court", "case", "status", "attempts", "last_error",
                    "sent_at", "acknowledged_at", "outcome_at"]
    show_columns = list_columns + ["message_id", "next_attempt_at", "payload"]
    search_columns = ["status", "created_at"]
    base_order = ("id", "desc")
    label_columns = {
        "created_at": _l("Time (Beijing time)"), "ministry": _l("Ministry"), "court": _l("Court (intranet)"),
        "case": _l("Case"), "topic": _l("Type"),
        "status": _l("Status"), "attempts": _l("Attempts"), "last_error": _l("Last error"),
        "sent_at": _l("Delivered at"), "acknowledged_at": _l("Acknowledged at"),
        "outcome_at": _l("Outcome received at"), "message_id": _l("Message ID"),
        "next_attempt_at": _l("Next attempt"), "payload": _l("Content"),
    }

    formatters_columns = {"topic": lambda topic: records.topic_label(topic), "payload": records.payload_text}

    @staticmethod
    def scope_query(query, scope):
        return query.filter(sa.false())  # platform staff only

    def toolbar_buttons(self):
        if request.endpoint != f"{self.endpoint}.show" or not self.appbuilder.sm.has_access(
                "can_resend", self.class_permission_name):
            return []
        message = self.datamodel.get(request.view_args.get("pk"), self._base_filters)
        if message is None or message.status is OutboxStatus.PENDING:
            return []
        return [Button(_("Resend"), url_for(f"{self.endpoint}.resend", pk=message.id), "btn-primary", "post",
                       confirm=_("Push this message again?"))]

    @expose("/resend/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("resend")
    @edge
    def resend(self, pk):
        outbox.resend(self.get_scoped(pk))
        flash(_("Queued again; the worker delivers it shortly."), "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))


class UnansweredPushView(OutboxView):
    """Delivered, but no outcome came back and the case is past its deadline."""

    route_base = "/pushes/unanswered"
    list_title = _l("Pushes without an outcome")
    base_permissions = ["can_list", "can_show"]

    @staticmethod
    def scope_query(query, scope):
        return query.filter(sa.false())

    @staticmethod
    def scope_wrapper(fn):
        return lambda query: _unanswered(scoped(fn)(query))


def _unanswered(query):
    return query.filter(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.outcome_at.is_(None),
                        OutboxMessage.case_id.in_(sa.select(Case.id).where(Case.deadline < today())))
