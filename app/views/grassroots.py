"""基层治理端 (the liaison's phone-first tool) and the court's 诉源治理 view of it [FAQ 7.4; SPEC §5].

A liaison sees only their own unit's disputes. The court admin sees every
unit of the court; a tribunal's admin sees the units of their tribunal.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..enums import DisputeStatus, DisputeType, PartyRole
from ..extensions import db
from ..models import Dispute, GrassrootsUnit, Tribunal
from ..security import current_scope
from ..workflows import grassroots
from .base import ScopedModelView, interface
from .scope import current_actor
from .edge import edge

PARTY_ROWS = 4
#: the colour of a dispute's status label in the liaison's list
STATUS_CSS = {
    DisputeStatus.PROCESSING: "label-warning",
    DisputeStatus.RESOLVED: "label-success",
    DisputeStatus.UNRESOLVED: "label-default",
    DisputeStatus.HANDED_OFF: "label-info",
}


def liaison_unit() -> GrassrootsUnit:
    unit = db.session.scalar(sa.select(GrassrootsUnit).where(GrassrootsUnit.liaison_user_id == g.user.id))
    if unit is None:
        abort(403)
    return unit


def _party_inputs(form) -> list[grassroots.PartyInput]:
    return [grassroots.PartyInput(role=form.get(f"role_{i}", "APPLICANT"), name=form.get(f"name_{i}", ""),
                                  phone=form.get(f"phone_{i}", "").strip(),
                                  id_number=form.get(f"id_number_{i}", "").strip())
            for i in range(PARTY_ROWS)]


class LiaisonView(BaseView):
    """基层治理端: the unit's disputes, the quick entry form and the closing buttons."""

    route_base = "/grassroots"
    default_view = "index"

    def _dispute(self, pk) -> Dispute:
        unit = liaison_unit()
        dispute = db.session.get(Dispute, pk)
        if dispute is None or dispute.unit_id != unit.id:
            abort(404)
        return dispute

    @expose("/")
    @has_access
    def index(self):
        unit = liaison_unit()
        disputes = db.session.scalars(sa.select(Dispute).where(Dispute.unit_id == unit.id)
                                      .order_by(Dispute.id.desc()).limit(100)).all()
        stats = grassroots.figures(sa.select(Dispute).where(Dispute.unit_id == unit.id))
        return self.render_template("court/liaison_index.html", title=unit.name, unit=unit, disputes=disputes,
                                    stats=stats, status_css=STATUS_CSS)

    @expose("/new", methods=["GET"])
    @has_access
    @permission_name("record")
    def new(self):
        return self._form()

    @expose("/new", methods=["POST"])
    @has_access
    @permission_name("record")
    @edge(refused="_refused_form")
    def new_post(self):
        form = request.form
        dispute = grassroots.record(liaison_unit(), current_actor(), form.get("dispute_type", ""),
                                    form.get("place", ""), form.get("description", ""),
                                    form.get("action_taken", ""), _party_inputs(form))
        flash(_("Dispute recorded."), "success")
        return redirect(url_for(".detail", pk=dispute.id))

    def _refused_form(self, exc):
        return self._form()

    def _form(self):
        return self.render_template("court/liaison_form.html", title=_("Record a dispute"), unit=liaison_unit(),
                                    form=request.form, rows=range(PARTY_ROWS), types=list(DisputeType),
                                    roles=list(PartyRole))

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk):
        dispute = self._dispute(pk)
        return self.render_template("court/liaison_detail.html", title=str(dispute), dispute=dispute,
                                    actions=grassroots.available_events(dispute, current_actor()),
                                    help=grassroots.HELP)

    @expose("/<int:pk>/<event>", methods=["POST"])
    @has_access
    @permission_name("record")
    @edge(refused="_back_to_detail")
    def act(self, pk, event):
        dispute = self._dispute(pk)
        grassroots.apply(dispute, event, current_actor(), expected_version=request.form.get("version", type=int),
                         note=request.form.get("note"))
        if dispute.case is not None:
            flash(_("Handed to online mediation: case %(number)s at %(court)s.", number=dispute.case.number,
                    court=dispute.case.court.name), "success")
        else:
            flash(_("Dispute closed: %(status)s.", status=dispute.status.label), "success")
        return redirect(url_for(".detail", pk=pk))

    def _back_to_detail(self, pk, event, exc):
        return redirect(url_for(".detail", pk=pk))


def visible_disputes(query, scope):
    """Court admin: the court's units; other court users: the units of the tribunal they administer."""
    if scope.is_court_admin:
        return query.filter(Dispute.court_id == scope.court_id)
    tribunals = sa.select(Tribunal.id).where(Tribunal.admin_id == scope.staff_id)
    return query.filter(Dispute.court_id == scope.court_id, Dispute.tribunal_id.in_(tribunals))


class DisputeView(ScopedModelView):
    """诉源治理 › 纠纷化解: what the court's grassroots units received and did."""

    route_base = "/disputes"
    datamodel = interface(Dispute)
    list_title = _l("Grassroots dispute resolution")
    show_title = _l("Dispute")
    base_permissions = ["can_list", "can_show"]
    list_columns = ["created_at", "unit", "dispute_type", "place", "status", "case", "closed_at"]
    show_columns = ["unit", "dispute_type", "place", "description", "action_taken", "status", "result_note",
                    "case", "created_at", "closed_at"]
    search_columns = ["status", "dispute_type", "created_at"]
    base_order = ("id", "desc")
    label_columns = {
        "unit": _l("Grassroots unit"),
        "dispute_type": _l("Dispute type"),
        "place": _l("Place"),
        "description": _l("Description"),
        "action_taken": _l("What was done"),
        "status": _l("Status"),
        "result_note": _l("Result note"),
        "case": _l("Online mediation case"),
        "created_at": _l("Recorded at"),
        "closed_at": _l("Closed at"),
    }

    @staticmethod
    def scope_query(query, scope):
        return visible_disputes(query, scope)


class GrassrootsFiguresView(BaseView):
    """诉源治理 › 化解统计: per unit and in total."""

    route_base = "/grassroots-figures"
    default_view = "index"

    @expose("/")
    @has_access
    @edge(refused="_period_refused")
    def index(self):
        base = self._disputes()
        period = grassroots.parse_period(request.args)
        base = period.where(base)
        unit_ids = db.session.scalars(sa.select(base.subquery().c.unit_id).distinct()).all()
        units = db.session.scalars(sa.select(GrassrootsUnit).where(GrassrootsUnit.id.in_(unit_ids))
                                   .order_by(GrassrootsUnit.name)).all()
        rows = [(u, grassroots.figures(base.where(Dispute.unit_id == u.id))) for u in units]
        return self.render_template("court/grassroots_figures.html", title=_("Grassroots figures"), rows=rows,
                                    total=grassroots.figures(base), form=period.args())

    def _period_refused(self, exc):
        """The period's problems are the edge's flashes; no figures, the form keeps what was typed."""
        self._disputes()
        return self.render_template("court/grassroots_figures.html", title=_("Grassroots figures"), rows=None,
                                    total=None, form=request.args)

    @staticmethod
    def _disputes():
        scope = current_scope()
        base = sa.select(Dispute)
        if not scope.is_platform:
            if scope.court_id is None:
                abort(403)
            base = visible_disputes(base, scope)
        return base


