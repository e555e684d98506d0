"""推送监控 for courts: the pushes of the court's cases and applications, 需关注 and 重新推送
[FAQ 3.4, 3.6, 6.3, 6.5] (rules: app/workflows/pushes.py; the platform's 推送记录: app/views/platform.py)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ..clock import shown
from ..extensions import db
from ..models import OutboxMessage
from ..security import current_scope
from ..serving import local_path
from ..workflows import pushes
from .edge import edge
from .records import topic_label
from .scope import current_actor

#: the list's two views of the court's pushes
FILTERS = ("attention", "failing")
STATE_CSS = {
    pushes.PushState.WAITING: "label-default",
    pushes.PushState.FAILING: "label-danger",
    pushes.PushState.DELIVERED: "label-warning",
    pushes.PushState.ACKNOWLEDGED: "label-info",
    pushes.PushState.ANSWERED: "label-success",
}
LIST_LIMIT = 200


def _receiver(message: OutboxMessage) -> str:
    if message.target == "intranet":
        return _("Intranet of %(court)s", court=message.court.name) if message.court else _("Court intranet")
    return message.ministry.name if message.ministry else ""


def push_rows(messages, actor, back: str) -> list[dict]:
    """Plain values for `pushes/_table.html` (no ORM object in the template)."""
    rows = []
    for m in messages:
        state = pushes.state_of(m)
        rows.append({
            "id": m.id, "created": shown(m.created_at), "topic": topic_label(m.topic), "receiver": _receiver(m),
            "case": str(m.case) if m.case else "", "case_url": url_for("CaseDetailView.detail", pk=m.case_id)
            if m.case_id else None,
            "state": state.label, "state_code": state.code, "css": STATE_CSS[state], "attempts": m.attempts,
            "error": pushes.error_label(m.last_error), "delivered": shown(m.sent_at),
            "acknowledged": shown(m.acknowledged_at), "answered": shown(m.outcome_at),
            "resend_url": url_for("CourtPushView.resend", pk=m.id, next=back)
            if pushes.can_resend(m, actor) else None,
        })
    return rows


def case_section(case, actor) -> dict:
    """The case page's 推送记录: its court's staff (and platform staff) only."""
    scope = actor.scope
    if not scope.is_platform and (scope.court_id is None or scope.court_id != case.court_id):
        return {"shown": False}
    back = url_for("CaseDetailView.detail", pk=case.id) + "#case-pushes"
    return {"shown": True, "rows": push_rows(pushes.case_pushes(case.id), actor, back)}


def application_rows(application, actor) -> list[dict] | None:
    """The application page's hand-over, for the court's staff (None: not shown)."""
    scope = actor.scope
    if application.outbox_message is None or (
            not scope.is_platform and scope.court_id != application.court_id):
        return None
    back = url_for("ApplicationDetailView.detail", pk=application.id) + "#handover"
    return push_rows([application.outbox_message], actor, back)


def _safe_next(default: str) -> str:
    return local_path(request.args.get("next")) or default


class CourtPushView(BaseView):
    """推送监控: the court's pushes that failed or are not acknowledged, and 重新推送."""

    route_base = "/court-pushes"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        scope = current_scope()
        if scope.court_id is None:
            abort(403)
        which = request.args.get("show", "attention")
        if which not in FILTERS:
            which = "attention"
        clause = pushes.failing_clause() if which == "failing" else pushes.attention_clause()
        query = pushes.court_pushes(sa.select(OutboxMessage), scope.court_id).filter(clause)
        messages = db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(LIST_LIMIT)).all()
        back = url_for(".index", show=which)
        return self.render_template(
            "pushes/index.html", title=_("Push monitor"), which=which, limit=LIST_LIMIT,
            rows=push_rows(messages, current_actor(), back),
            tabs=[(key, label, url_for(".index", show=key)) for key, label in
                  (("attention", _("Failed or not acknowledged")), ("failing", _("Push failed")))])

    @expose("/resend/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("resend")
    @edge
    def resend(self, pk):
        message = db.session.get(OutboxMessage, pk)
        scope = current_scope()
        if message is None or scope.court_id is None or pushes.court_of(message) != scope.court_id:
            abort(404)  # another court's push is not even named
        pushes.resend(message, current_actor())
        flash(_("Queued again; the worker delivers it shortly."), "success")
        return redirect(_safe_next(url_for(".index")))
