"""留言 on a case [issue 14 item 6]: on the case page (mediator writes, the court reads) and in the
portal (parties and agents write).

Who may use each screen (a view's permission, then the workflow's own check in
app/workflows/messages.py):

- the 留言 panel of the case page: the case's mediator writes; the case's court staff read only;
- `CaseMessageView.post` (POST /messages/case/<pk>): the case's mediator;
- `CaseMessageView.portal` (/messages/portal/<pk>): a party or agent of that case (others: 404
  from `load_portal_case`, as every portal page of a case).
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ..clock import local
from ..workflows import messages
from .edge import edge
from .scope import current_actor, load_portal_case, load_visible_case


def case_section(case, actor, post_url: str | None = None) -> dict:
    """What a page shows of a case's messages: none to anyone but its people and its court."""
    if not messages.may_read(case, actor):
        return {"shown": False}
    return {"shown": True, "messages": messages.messages_of(case, actor), "local": local,
            "post_url": (post_url or url_for("CaseMessageView.post", pk=case.id))
            if messages.may_write(case, actor) else None,
            "max_length": messages.MAX_LENGTH}


class CaseMessageView(BaseView):
    route_base = "/messages"

    @expose("/case/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("post")
    @edge
    def post(self, pk):
        case = load_visible_case(pk)
        messages.post(case, current_actor(), request.form.get("body", ""))
        flash(_("Message sent."), "success")
        return redirect(url_for("CaseDetailView.detail", pk=pk) + "#case-messages")

    def _portal_page(self, pk, body=""):
        case = load_portal_case(pk)
        section = case_section(case, current_actor(), url_for(".portal_post", pk=pk))
        return self.render_template("messages/portal.html", title=_("Messages"), case=case, section=section,
                                    body=body)

    @expose("/portal/<int:pk>")
    @has_access
    @permission_name("portal")
    def portal(self, pk):
        return self._portal_page(pk)

    @expose("/portal/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("post")
    @edge(refused="_portal_refused")
    def portal_post(self, pk):
        case = load_portal_case(pk)
        messages.post(case, current_actor(), request.form.get("body", ""))
        flash(_("Message sent."), "success")
        return redirect(url_for(".portal", pk=pk))

    def _portal_refused(self, pk, exc):
        return self._portal_page(pk, body=request.form.get("body", ""))
