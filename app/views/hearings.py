"""视频调解, 上传录音录像, 查看录像 and 多路视频申请 [FAQ 4.1, 4.2; SPEC §3.5].

Who may use each screen (a view's permission, then the workflow's own check):

- `HearingView` 视频调解 page, 视频呼叫, recording, 结束视频: the case's mediator
  (调解员端). The room and its signals: the mediator and the parties / agents
  invited to that room (当事人, 代理人); anyone else gets 403.
- `RecordingView` 查看录像 and playback: the case's mediator and the case's court
  staff; 上传录音录像 and delete: the case's mediator.
- `MultiVideoView` 多路视频申请: the case's court admin (法院端).
- `MultiVideoReviewView` 多路视频审核: platform staff (平台后台).

Every state change is `@edge`; the room's JSON endpoints are `@edge(api=True)`.
Large bytes never pass through memory whole: an upload is the raw request
body streamed into the file store, and playback streams byte ranges from it.
"""
from __future__ import annotations

import json
from urllib.parse import quote, unquote

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms.validators import ValidationError
from werkzeug.http import parse_range_header

from .. import janus
from ..enums import MultiVideoStatus
from ..extensions import db
from ..models import Case, Hearing, MultiVideoRequest, Recording
from ..roles import Portal
from ..security import active_portal
from ..storage import file_store
from ..transactions import writes
from ..workflows import NotAllowed, hearings, multi_video, recordings
from .base import Button
from .scope import current_actor
from .edge import edge


def _case(pk: int) -> Case:
    case = db.session.get(Case, pk)
    if case is None:
        abort(404)
    return case


def _hearing(hid: int) -> Hearing:
    hearing = db.session.get(Hearing, hid)
    if hearing is None:
        abort(404)
    return hearing


def _recording(case: Case, rid: int) -> Recording:
    rec = db.session.get(Recording, rid)
    if rec is None or rec.case_id != case.id:
        abort(404)
    return rec


#: endpoints whose body is a raw stream (an upload, a piece of a recording). Flask-WTF's check would
#: open that stream under the app-wide MAX_CONTENT_LENGTH before the view can raise the limit, so
#: they are exempt from it (app/views/__init__.py) and check the header token here instead.
RAW_BODY_VIEWS = ("app.views.hearings.upload", "app.views.hearings.record_chunk")


def _raw_body(limit: int) -> None:
    """Lift the request's size limit to `limit`, then check CSRF."""
    request.max_content_length = limit
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError as exc:
            raise CSRFError(exc.args[0])


class _Body:
    """The request body, opened when first read: after the workflow's checks of its declared size
    (werkzeug answers 413 on opening a body over the limit)."""

    def read(self, size: int = -1) -> bytes:
        return request.stream.read(size)


def _allow(ok: bool) -> None:
    """A page (not an `@edge` step) for someone the workflow would refuse: 403."""
    if not ok:
        abort(403)


def back_to(endpoint: str, **keys):
    """An `@edge` refusal: 403 for someone the workflow does not allow, else back to `endpoint`
    (the Chinese reason is flashed there)."""

    def refused(*args, exc, **kwargs):
        if isinstance(exc, NotAllowed):
            abort(403)
        return redirect(url_for(endpoint, **{k: kwargs[v] for k, v in keys.items()}))

    return refused


def ice_servers() -> list:
    """`VIDEO_ICE_SERVERS`: STUN/TURN for real networks (README); none on one machine or a LAN."""
    value = current_app.config.get("VIDEO_ICE_SERVERS") or []
    return json.loads(value) if isinstance(value, str) else list(value)


def human_duration(ms) -> str:
    if not ms:
        return ""
    seconds = int(round(ms / 1000))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# --- the case page's hook ----------------------------------------------------------

def case_section(case: Case, actor) -> dict:
    """What the case page shows of this area: its buttons (top right), the recordings, 多路视频."""
    buttons = []
    if hearings.may_call(case, actor):
        buttons.append(Button(_("Video mediation"), url_for("HearingView.call_page", pk=case.id)))
    if recordings.may_upload(case, actor):
        buttons.append(Button(_("Upload recordings"), url_for("RecordingView.upload_page", pk=case.id),
                              "btn-default"))
    can_view = recordings.may_view(case, actor)
    if can_view:
        buttons.append(Button(_("View recordings"), url_for("RecordingView.list_page", pk=case.id), "btn-default"))
    if multi_video.may_submit(case, actor):
        buttons.append(Button(_("Apply for multi-party video"), url_for("MultiVideoView.form", pk=case.id),
                              "btn-default"))
    show_requests = actor.is_court_staff_of(case) or actor.is_mediator_of(case)
    return {
        "buttons": buttons,
        "recordings": recordings.recordings_of(case) if can_view else None,
        "multi_video": multi_video.requests_of(case) if show_requests else [],
        "human_size": recordings.human_size, "human_duration": human_duration,
    }


def video_invitations() -> list:
    """The open rooms the logged-in party or agent is invited to (the portal's 加入视频 banner)."""
    portal = active_portal()
    if portal not in (Portal.PARTY, Portal.AGENT) or g.user is None or not g.user.is_authenticated:
        return []
    return hearings.invitations_for(g.user.username, portal is Portal.AGENT)


# --- 视频调解 and the room ---------------------------------------------------------------

class HearingView(BaseView):
    route_base = "/hearing"

    @expose("/case/<int:pk>")
    @has_access
    @permission_name("call")
    def call_page(self, pk):
        """视频调解: choose 申请人 / 被申请人 / both and press 视频呼叫."""
        case = _case(pk)
        actor = current_actor()
        _allow(actor.is_mediator_of(case))
        return self.render_template(
            "hearings/call.html", title=_("Video mediation"), case=case, live=hearings.live_room(case),
            latest=hearings.latest_room(case), sides=hearings.party_sides(case),
            may_call=hearings.may_call(case, actor), multi_video=multi_video.requests_of(case),
            approved=multi_video.approved(case))

    @expose("/case/<int:pk>/call", methods=["POST"])
    @has_access
    @permission_name("call")
    @edge(refused=back_to("HearingView.call_page", pk="pk"))
    def call(self, pk):
        case = _case(pk)
        hearing = hearings.call(case, current_actor(), request.form.getlist("sides"))
        flash(_("Invitation sent. The parties see Join video in their portal."), "success")
        return redirect(url_for(".room", hid=hearing.id))

    @expose("/<int:hid>")
    @has_access
    @permission_name("room")
    def room(self, hid):
        hearing = _hearing(hid)
        actor = current_actor()
        _allow(hearings.may_enter(hearing, actor))
        case = hearing.case
        is_mediator = actor.is_mediator_of(case)
        config = {
            "csrf": _csrf(),
            "join_url": url_for(".join", hid=hid), "signals_url": url_for(".signals", hid=hid),
            "leave_url": url_for(".leave", hid=hid),
            "record_url": url_for(".record_start", hid=hid) if is_mediator else None,
            "chunk_url": url_for(".record_start", hid=hid) + "/" if is_mediator else None,
            "ice_servers": ice_servers(),
            # the Janus API's address only; the room's pin and an entry's token come with `join`
            "janus_url": current_app.config.get("JANUS_URL") if janus.sfu() else None,
            "poll_ms": int(current_app.config.get("VIDEO_POLL_MS", 1000)),
            "chunk_ms": int(current_app.config.get("VIDEO_CHUNK_MS", 2000)),
            "mediator": is_mediator,
            "server_recording": recordings.on_server(hearing),
            "text": {
                "me": _("Me"), "no_devices": _("The camera or microphone cannot be opened. Allow the browser to "
                                               "use them, or try another browser."),
                "ended": _("The video room was ended."), "left": _("You have left the video room."),
                "superseded": _("You entered this room from another page; this page has left it."),
                "mute": _("Mute"), "unmute": _("Unmute"), "camera_off": _("Camera off"),
                "camera_on": _("Camera on"), "recording": _("Recording…"), "record": _("Start recording"),
                "stop_record": _("Stop recording"), "saved": _("The recording was saved."),
                "saved_server": _("Recording stopped. Once the server has converted it, it plays under "
                                  "View recordings."),
                "connecting": _("Connecting…"), "in_room": _("You are in the video room."),
                "network": _("The connection to the platform was interrupted; retrying…"),
            },
        }
        return self.render_template(
            "hearings/room.html", title=_("Video mediation"), case=case, hearing=hearing,
            live=hearings.is_live(hearing), is_mediator=is_mediator, config=config,
            end_action=next((a for a in hearings.available_events(hearing, actor) if a.event == "end"), None))

    @expose("/<int:hid>/join", methods=["POST"])
    @has_access
    @permission_name("room")
    @edge(api=True)
    def join(self, hid):
        hearing = _hearing(hid)
        me = hearings.join(hearing, current_actor())
        return jsonify(status="ok", session=me.session, after=me.session, name=me.name,
                       sfu=hearings.sfu_credentials(hearing, me))

    @expose("/<int:hid>/signals", methods=["GET"])
    @has_access
    @permission_name("room")
    @edge(api=True)
    @writes  # polling refreshes the caller's presence
    def signals(self, hid):
        hearing = _hearing(hid)
        return jsonify(status="ok", **hearings.poll(hearing, current_actor(), request.args.get("session", type=int),
                                                    request.args.get("after", 0, type=int)))

    @expose("/<int:hid>/signals", methods=["POST"])
    @has_access
    @permission_name("room")
    @edge(api=True)
    def signal_post(self, hid):
        hearing = _hearing(hid)
        body = request.get_json(silent=True) or {}
        hearings.send_signal(hearing, current_actor(), _int(body.get("session")), _int(body.get("to")),
                             str(body.get("kind", "")), body.get("data"))
        return jsonify(status="ok")

    @expose("/<int:hid>/leave", methods=["POST"])
    @has_access
    @permission_name("room")
    @edge(api=True)
    def leave(self, hid):
        hearing = _hearing(hid)
        body = request.get_json(silent=True) or request.form
        hearings.leave(hearing, current_actor(), _int(body.get("session")))
        return jsonify(status="ok")

    @expose("/<int:hid>/end", methods=["POST"])
    @has_access
    @permission_name("call")
    @edge(refused=back_to("HearingView.room", hid="hid"))
    def end(self, hid):
        hearing = _hearing(hid)
        hearings.end(hearing, current_actor(), request.form.get("version", type=int))
        flash(_("The video mediation has ended."), "success")
        return redirect(url_for("CaseDetailView.detail", pk=hearing.case_id))

    @expose("/<int:hid>/recording", methods=["POST"])
    @has_access
    @permission_name("call")
    @edge(api=True)
    def record_start(self, hid):
        rec = recordings.start(_hearing(hid), current_actor())
        return jsonify(status="ok", id=rec.id)

    @expose("/<int:hid>/recording/<int:rid>/<int:seq>", methods=["POST"])
    @has_access
    @permission_name("call")
    @edge(api=True)
    def record_chunk(self, hid, rid, seq):
        hearing = _hearing(hid)
        rec = _recording(hearing.case, rid)
        _raw_body(recordings.max_bytes())
        size = recordings.append_chunk(rec, current_actor(), seq, _Body(),
                                       request.args.get("elapsed", type=int))
        return jsonify(status="ok", size=size)

    @expose("/<int:hid>/recording/<int:rid>/finish", methods=["POST"])
    @has_access
    @permission_name("call")
    @edge(api=True)
    def record_finish(self, hid, rid):
        hearing = _hearing(hid)
        rec = _recording(hearing.case, rid)
        body = request.get_json(silent=True) or {}
        recordings.finish(rec, current_actor(), _int(body.get("duration_ms")))
        return jsonify(status="ok", size=rec.size)


def _int(value):
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _csrf() -> str:
    return generate_csrf()


# --- recordings ----------------------------------------------------------------------

class RecordingView(BaseView):
    route_base = "/case"

    @expose("/<int:pk>/recordings")
    @has_access
    @permission_name("list_recordings")
    def list_page(self, pk):
        """查看录像: every recording of the case, played in the page (seeking by Range requests)."""
        case = _case(pk)
        actor = current_actor()
        _allow(recordings.may_view(case, actor))
        rows = [(r, recordings.available_events(r, actor)) for r in recordings.recordings_of(case)]
        return self.render_template(
            "hearings/recordings.html", title=_("View recordings"), case=case, rows=rows,
            may_upload=recordings.may_upload(case, actor), human_size=recordings.human_size,
            human_duration=human_duration, play=request.args.get("play", type=int), playable=recordings.playable)

    @expose("/<int:pk>/recordings/<int:rid>/media")
    @has_access
    @permission_name("list_recordings")
    def media(self, pk, rid):
        """The recording's bytes; `Range: bytes=a-b` answers 206 with those bytes, a range past the end 416."""
        case = _case(pk)
        _allow(recordings.may_view(case, current_actor()))
        rec = _recording(case, rid)
        if not recordings.playable(rec):
            abort(404)
        store = file_store()
        size = store.size(rec.file_key)
        over = current_app.config.get("S3_PRESIGN_OVER_BYTES") or 0
        if over and size >= over and hasattr(store, "presigned_url"):
            # a large file goes from the bucket to the browser, not through a worker; the URL
            # is made after the permission check above and lasts S3_PRESIGN_SECONDS
            url = store.presigned_url(rec.file_key, seconds=current_app.config.get("S3_PRESIGN_SECONDS") or 300,
                                      file_name=rec.file_name, content_type=rec.content_type,
                                      disposition="attachment" if request.args.get("download") else "inline")
            return redirect(url, code=302)
        headers = {"Accept-Ranges": "bytes", "X-Content-Type-Options": "nosniff",
                   "Cache-Control": "private, no-store",
                   "Content-Disposition": ("attachment" if request.args.get("download") else "inline")
                   + f"; filename=recording.{rec.file_name.rsplit('.', 1)[-1]}; "
                     f"filename*=UTF-8''{quote(rec.file_name)}"}
        start, end, status = 0, size - 1, 200
        # a Range that does not parse is ignored (RFC 9110 §14.2); one past the end is 416
        ranges = parse_range_header(request.headers.get("Range"))
        if ranges is not None:
            span = ranges.range_for_length(size)
            if span is None:
                return Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
            start, end, status = span[0], span[1] - 1, 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        headers["Content-Length"] = str(max(0, end - start + 1))
        body = store.iter_range(rec.file_key, start, end) if size else iter(())
        return Response(body, status=status, mimetype=rec.content_type, headers=headers, direct_passthrough=True)

    @expose("/<int:pk>/recordings/upload", methods=["GET"])
    @has_access
    @permission_name("upload_recordings")
    def upload_page(self, pk):
        """上传录音录像 [FAQ 4.1(2)]."""
        case = _case(pk)
        _allow(recordings.may_upload(case, current_actor()))
        return self.render_template("hearings/upload.html", title=_("Upload recordings"), case=case,
                                    max_mb=recordings.max_bytes() // (1024 * 1024), csrf=_csrf())

    @expose("/<int:pk>/recordings/upload", methods=["POST"])
    @has_access
    @permission_name("upload_recordings")
    @edge(api=True)
    def upload(self, pk):
        """The file is the raw request body (the page's script sends it so), streamed into the store."""
        case = _case(pk)
        # one byte over the limit: the workflow refuses a declared size over it with its own message
        _raw_body(recordings.max_bytes() + 1)
        name = unquote(request.headers.get("X-File-Name", ""))
        rec = recordings.upload(case, current_actor(), name, _Body(), request.content_length)
        flash(_("Recording uploaded."), "success")
        return jsonify(status="ok", id=rec.id, redirect=url_for(".list_page", pk=pk))

    @expose("/<int:pk>/recordings/<int:rid>/delete", methods=["POST"])
    @has_access
    @permission_name("upload_recordings")
    @edge(refused=back_to("RecordingView.list_page", pk="pk"))
    def delete(self, pk, rid):
        case = _case(pk)
        rec = _recording(case, rid)
        recordings.delete(rec, current_actor(), request.form.get("confirm") == "y",
                          request.form.get("version", type=int))
        flash(_("Recording deleted."), "success")
        return redirect(url_for(".list_page", pk=pk))


# --- 多路视频 ---------------------------------------------------------------------------

class MultiVideoView(BaseView):
    """多路视频申请, from the case page of the court [FAQ 4.1 注意(3)]."""

    route_base = "/case"

    @expose("/<int:pk>/multi-video", methods=["GET"])
    @has_access
    @permission_name("apply")
    def form(self, pk, exc=None):
        if isinstance(exc, NotAllowed):
            abort(403)
        case = _case(pk)
        actor = current_actor()
        _allow(actor.is_court_admin_of(case))
        return self.render_template("hearings/multi_video_form.html", title=_("Apply for multi-party video"),
                                    case=case, reason=request.form.get("reason", ""),
                                    requests=multi_video.requests_of(case))

    @expose("/<int:pk>/multi-video", methods=["POST"])
    @has_access
    @permission_name("apply")
    @edge(refused="form")
    def submit(self, pk):
        case = _case(pk)
        multi_video.submit(case, current_actor(), request.form.get("reason", ""))
        flash(_("The multi-party video application was submitted for review."), "success")
        return redirect(url_for("CaseDetailView.detail", pk=pk))


class MultiVideoReviewView(BaseView):
    """多路视频审核 in 平台后台: platform staff approve or reject."""

    route_base = "/multi-video"
    default_view = "list"

    @expose("/")
    @has_access
    @permission_name("review")
    def list(self):
        _allow(current_actor().scope.is_platform)
        rows = db.session.execute(
            sa.select(MultiVideoRequest, Case).join(Case, Case.id == MultiVideoRequest.case_id)
            .order_by((MultiVideoRequest.status == MultiVideoStatus.PENDING).desc(), MultiVideoRequest.id.desc())
            .limit(200)).all()
        return self.render_template("hearings/multi_video_list.html", title=_("Multi-party video review"),
                                    rows=rows)

    @expose("/<int:rid>")
    @has_access
    @permission_name("review")
    def detail(self, rid, exc=None):
        actor = current_actor()
        _allow(actor.scope.is_platform)
        req = db.session.get(MultiVideoRequest, rid) or abort(404)
        return self.render_template("hearings/multi_video_review.html", title=_("Multi-party video review"),
                                    req=req, case=req.case, events=multi_video.available_events(req, actor),
                                    reason=request.form.get("reason", ""))

    @expose("/<int:rid>/<event>", methods=["POST"])
    @has_access
    @permission_name("review")
    @edge(refused="_refused")
    def review(self, rid, event):
        req = db.session.get(MultiVideoRequest, rid) or abort(404)
        if event not in ("approve", "reject"):
            abort(404)
        multi_video.review(req, event, current_actor(), request.form.get("reason", ""),
                           request.form.get("version", type=int))
        flash(_("%(event)s: done.", event=multi_video.MACHINE[event].label), "success")
        return redirect(url_for(".list"))

    def _refused(self, rid, event, exc):
        if isinstance(exc, NotAllowed):
            abort(403)
        return self.detail(rid)
