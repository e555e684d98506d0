"""调解员端 › 我的设置 › 认证法院 › 申请认证 [FAQ 3.2]. Mediators only, own links only."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ..extensions import db
from ..models import Court, Mediator
from ..security import current_scope
from ..workflows import certification
from .cases import current_actor
from .edge import edge


class MyCertificationView(BaseView):
    route_base = "/my/certifications"
    default_view = "list"

    def _mediator(self) -> Mediator:
        scope = current_scope()
        if scope.mediator_id is None:
            abort(403)
        return db.session.get(Mediator, scope.mediator_id)

    @expose("/")
    @has_access
    def list(self):
        mediator = self._mediator()
        links = certification.links_of(mediator)
        courts = certification.courts_open_to(mediator, current_actor())
        return self.render_template("court/my_certifications.html", title=_("Certified courts"),
                                    mediator=mediator, links=links, courts=courts,
                                    form_court=request.args.get("court_id", ""), form_note="")

    @expose("/apply", methods=["POST"])
    @has_access
    @permission_name("apply")
    @edge(refused="_to_list")
    def apply(self):
        mediator = self._mediator()
        court_id = request.form.get("court_id", type=int)
        court = db.session.get(Court, court_id) if court_id else None
        certification.apply_for(mediator, court, current_actor(), request.form.get("note"))
        flash(_("Application sent to %(court)s; the court administrator will review it.",
                court=court.name), "success")
        return redirect(url_for(".list"))

    def _to_list(self, exc):
        return redirect(url_for(".list"))
