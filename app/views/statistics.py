"""质效指标管理: 案件统计报表查询, 报表明细查询, exports and the dashboard (SPEC §6, FAQ 2.4).

Who: court accounts (admin and users) see their court and the courts below
it; ministry accounts their organisations; platform staff everything
(`statistics.reach_for`). The dashboard is for court admins, ministry
managers and the platform. An export job is its owner's alone.
"""
from __future__ import annotations

import io
import os
from urllib.parse import quote

import sqlalchemy as sa
from flask import abort, current_app, flash, g, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from markupsafe import Markup, escape

from .. import exports, xlsx
from ..clock import today
from ..enums import CaseType
from ..extensions import db
from ..models import Court, ExportJob
from ..security import current_scope
from ..transactions import writes
from ..workflows import dashboard
from ..workflows import exports as export_jobs
from ..workflows import statistics as stats
from .edge import edge
from .scope import current_actor

DETAIL_PAGE_SIZE = 50
#: report rows per page: a court's roster is a thousand mediators, 689 KB of HTML on one page (issue 17)
REPORT_PAGE_SIZE = 50
#: FAB's pager (lib.render_pagination) names its argument page_<view>
REPORT_PAGE_ARG = "page_report"


def _reach() -> stats.Reach:
    reach = stats.reach_for(current_scope())
    if reach is None:
        abort(403)
    return reach


def report_rows(result: stats.Report, first_columns, detail_base: str, rows=None) -> Markup:
    """The <tr>s of `rows` (default: all) and the whole report's total. Built here rather than in
    Jinja: even a page is fifty rows of a dozen cells with a link each."""
    out = []
    for row in (result.rows if rows is None else rows) + [result.total]:
        is_total = row is result.total
        key = "all" if is_total else quote(row.link_key)
        cells = [escape(row.name)] + [escape(row.extra.get(k, "")) for _l, _w, k in first_columns[1:]]
        out.append('<tr class="court-total">' if is_total else "<tr>")
        out.extend(f"<td>{cell}</td>" for cell in cells)
        for name in stats.FIGURES:
            value = getattr(row, name)
            if name == "success_rate":
                text = "—" if value is None else f"{value * 100:.1f}%"
            elif name == "average_days":
                text = "—" if value is None else f"{value:.1f}"
            elif value:
                text = f'<a href="{escape(detail_base)}&amp;figure={name}&amp;key={key}">{value}</a>'
            else:
                text = "0"
            out.append(f'<td class="text-right">{text}</td>')
        out.append("</tr>")
    return Markup("".join(out))


def _who() -> str:
    return g.user.first_name or g.user.username


class StatisticsView(BaseView):
    route_base = "/statistics"
    default_view = "report"
    method_permission_name = {
        "report": "report", "detail": "report",
        "report_export": "export", "detail_export": "export", "jobs": "export", "job": "export",
        "job_status": "export", "job_download": "export",
        "dashboard": "dashboard",
    }

    # --- 案件统计报表查询 -----------------------------------------------------------

    @expose("/report")
    @has_access
    @edge(refused="_report_refused")
    def report(self):
        reach = _reach()
        q = stats.parse_query(request.args, reach)
        page = request.args.get(REPORT_PAGE_ARG, 0, type=int)
        return self._render_report(reach, stats.report_page(q, reach, page, REPORT_PAGE_SIZE), form=q.args())

    def _report_refused(self, exc):
        """The query's problems are the edge's flashes; the form keeps what was asked."""
        return self._render_report(_reach(), None, form=request.args)

    def _to_report(self, exc):
        """Back to the report, whose flashes say what was wrong with the query."""
        return redirect(url_for(".report"))

    def _render_report(self, reach, result, form):
        start, end = stats.default_period()
        count = result.count if result else 0
        page = result.paged[0] if result else 0
        return self.render_template(
            "court/statistics_report.html", title=_("Case statistics report"), result=result,
            form={"by": stats.Dimension.MEDIATOR, "start": start.isoformat(), "end": end.isoformat(), **form},
            dimensions=stats.DIMENSIONS, figures=stats.FIGURES, counted=stats.COUNTED,
            case_types=list(CaseType), courts=self._courts(reach),
            first_columns=exports.report_first_columns(result.query.by if result else stats.Dimension.MEDIATOR),
            can_export=self.appbuilder.sm.has_access("can_export", self.class_permission_name),
            report_rows=report_rows, page=page, page_size=REPORT_PAGE_SIZE, count=count,
            page_rows=result.page(page, REPORT_PAGE_SIZE) if result else [])

    @staticmethod
    def _courts(reach: stats.Reach):
        if reach.court_ids is None or len(reach.court_ids) > 1:
            query = sa.select(Court.id, Court.name).order_by(Court.code)
            if reach.court_ids is not None:
                query = query.where(Court.id.in_(reach.court_ids))
            return db.session.execute(query).all()
        return []

    @expose("/report/export")
    @has_access
    @edge(refused="_to_report")
    def report_export(self):
        reach = _reach()
        q = stats.parse_query(request.args, reach)
        data = exports.report_workbook(stats.report(q, reach), _who())
        return xlsx.response(data, exports.report_filename(q))

    # --- 报表明细查询 ----------------------------------------------------------------

    def _detail_args(self, reach):
        q = stats.parse_query(request.args, reach)
        figure = request.args.get("figure", "received")
        key_text = request.args.get("key", "all")
        all_rows = key_text == "all"
        key = None if all_rows else stats.parse_key(q.by, key_text)
        # fails early on a figure without cases
        stats.detail_filter(q, reach, figure, key, sa.select(sa.literal(1)), all_rows=all_rows)
        return q, figure, key_text, key, all_rows

    def _detail_title(self, q, figure, key, all_rows) -> str:
        row_name = _("Total") if all_rows else stats.row_name(q.by, key)
        return _("Report detail: %(row)s · %(figure)s", row=row_name, figure=str(stats.FIGURES[figure]))

    @expose("/detail")
    @has_access
    @edge(refused="_to_report")
    def detail(self):
        reach = _reach()
        q, figure, key_text, key, all_rows = self._detail_args(reach)
        page = max(request.args.get("page", 0, type=int), 0)
        total = exports.detail_count(q, reach, figure, key, all_rows)
        stmt = exports.detail_select(q, reach, figure, key, all_rows).order_by(sa.desc("id"))
        rows = db.session.execute(stmt.limit(DETAIL_PAGE_SIZE).offset(page * DETAIL_PAGE_SIZE)).all()
        return self.render_template(
            "court/statistics_detail.html", title=self._detail_title(q, figure, key, all_rows), rows=rows,
            total=total, page=page, pages=(total + DETAIL_PAGE_SIZE - 1) // DETAIL_PAGE_SIZE,
            args={**q.args(), "figure": figure, "key": key_text}, columns=exports.DETAIL_COLUMNS,
            period=exports.period_text(q), sync_limit=current_app.config["EXPORT_SYNC_LIMIT"],
            can_export=self.appbuilder.sm.has_access("can_export", self.class_permission_name))

    @expose("/detail/export")
    @has_access
    @edge(refused="_to_report")
    @writes  # a large export queues an ExportJob
    def detail_export(self):
        """Small: the workbook now. Large: a queued `ExportJob`, committed by the edge."""
        reach = _reach()
        q, figure, key_text, key, all_rows = self._detail_args(reach)
        title = self._detail_title(q, figure, key, all_rows)
        total = exports.detail_count(q, reach, figure, key, all_rows)
        if total <= current_app.config["EXPORT_SYNC_LIMIT"]:
            buf = io.BytesIO()
            exports.write_cases(buf, title, [exports.period_text(q)],
                                exports.CaseRows(q, reach, figure, key, all_rows))
            return xlsx.response(buf.getvalue(), f"{title}.xlsx")
        job = export_jobs.start_detail_job(current_actor(), title, q, reach, figure, key_text, total)
        flash(_("The export of %(count)d cases runs in the background; the download appears here when done.",
                count=total), "info")
        return redirect(url_for(".job", pk=job.id))

    # --- background exports -----------------------------------------------------------

    def _my_job(self, pk: int) -> ExportJob:
        job = db.session.get(ExportJob, pk)
        if job is None or job.user_id != g.user.id:
            abort(404)
        return job

    @expose("/exports/")
    @has_access
    def jobs(self):
        jobs = db.session.scalars(sa.select(ExportJob).where(ExportJob.user_id == g.user.id)
                                  .order_by(ExportJob.id.desc()).limit(50)).all()
        return self.render_template("court/export_jobs.html", title=_("My exports"), jobs=jobs,
                                    job_ready=export_jobs.job_ready)

    @expose("/exports/<int:pk>")
    @has_access
    def job(self, pk):
        job = self._my_job(pk)
        return self.render_template("court/export_job.html", title=_("Export"), job=job,
                                    pending=export_jobs.job_pending(job), ready=export_jobs.job_ready(job))

    @expose("/exports/<int:pk>/status")
    @has_access
    def job_status(self, pk):
        job = self._my_job(pk)
        return jsonify(status=job.status.value, label=str(job.status.label), done=job.done, total=job.total,
                       error=job.error,
                       pending=export_jobs.job_pending(job),
                       download=url_for(".job_download", pk=pk) if export_jobs.job_ready(job) else None)

    @expose("/exports/<int:pk>/download")
    @has_access
    def job_download(self, pk):
        job = self._my_job(pk)
        if not export_jobs.job_ready(job) or not job.path or not os.path.exists(job.path):
            abort(404)
        return send_file(job.path, as_attachment=True, download_name=f"{job.title}.xlsx",
                         mimetype=xlsx.MIMETYPE)

    # --- 数据看板 -----------------------------------------------------------------------

    @expose("/dashboard")
    @has_access
    def dashboard(self):
        return self.render_template("court/statistics_dashboard.html", title=_("Dashboard"),
                                    board=dashboard.build(_reach(), today()))
