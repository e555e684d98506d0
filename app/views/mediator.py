"""调解员端 › 我的设置 › 认证法院 › 申请认证 [FAQ 3.2]. Mediators only, own links only."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ..extensions import db
from ..models import Court, Mediator, MediatorCourt
from ..security import current_scope
from ..workflows import certification
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
        links = db.session.scalars(
            sa.select(MediatorCourt).where(MediatorCourt.mediator_id == mediator.id)
            .order_by(MediatorCourt.applied_at.desc())
        ).all()
        courts = db.session.scalars(sa.select(Court).order_by(Court.code)).all()
        return self.render_template("court/my_certifications.html", title=_("Certified courts"),
                                    mediator=mediator, links=links, courts=courts,
                                    form_court=request.args.get("court_id", ""), form_note="")

    @expose("/apply", methods=["POST"])
    @has_access
    @permission_name("apply")
    @edge(refused="_back")
    def apply(self):
        mediator = self._mediator()
        court_id = request.form.get("court_id", type=int)
        court = db.session.get(Court, court_id) if court_id else None
        certification.apply(mediator, court, request.form.get("note"))
        flash(_("Application sent to %(court)s; the court administrator will review it.",
                court=court.name), "success")
        return redirect(url_for(".list"))

    def _back(self, exc):
        return redirect(url_for(".list"))
